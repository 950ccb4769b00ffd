"""Golden hashes: every built-in bed and preset gives exactly the samples it gave before.

A refactor of the beds (designs as data, registration, speed-ups) must not change a single
sample: each bed at each intensity, and each built-in preset, is rendered for 3 s (several of
the engine's 32768-frame internal chunks) at 44.1 and 48 kHz with two seeds, and for 30 s at
44.1 kHz with seed 0 (long enough for the rare events: birds, log snaps, crickets' pauses), and
the sha256 of the float32 samples is compared with the figure recorded here.

The figures were computed with numpy 2.4 and scipy 1.17 on x86-64; another numpy or scipy (or
another CPU's vector code for ``exp`` and ``sin``) may round the last bit differently, in which
case this test fails although the sound is the same: recompute the figures on the old code
there. To print the current figures: ``.venv/bin/python tests/test_bed_golden.py``.
"""

from __future__ import annotations

import hashlib
import sys

import pytest

from imr_audio.soundscapes.catalog import SoundscapeCatalog

render_soundscape = SoundscapeCatalog.builtin().render

SHORT_S = 3.0
LONG_S = 30.0
RATES_HZ = (44100, 48000)
SEEDS = (0, 1)
NAMES = (
    *(
        f"{bed}{suffix}"
        for bed in ("fire", "forest", "night", "ocean", "rain", "stream", "wind")
        for suffix in ("", "-light", "-heavy")
    ),
    "brown-noise",
    "pink-noise",
    "forest-stream",
    "rain-on-fire",
)
CASES = [
    *((name, SHORT_S, rate, seed) for name in NAMES for rate in RATES_HZ for seed in SEEDS),
    *((name, LONG_S, 44100, 0) for name in NAMES),
]


def _sha256(name: str, duration_s: float, rate_hz: int, seed: int) -> str:
    audio = render_soundscape(name, duration_s, rate_hz, seed)
    return hashlib.sha256(audio.tobytes()).hexdigest()


def _key(name: str, duration_s: float, rate_hz: int, seed: int) -> str:
    return f"{name} {duration_s:g} {rate_hz} {seed}"


# name, seconds, sample rate in Hz, seed: sha256 of the float32 samples
_FIGURES = """
fire 3 44100 0 eb3783159f378ed8bc2c46d941848ebe22d9803014f7033e46e5033686789662
fire 3 44100 1 de037f388b16683e74ee39429319f92115aeb4425e21cbeb3b413457ddab20f5
fire 3 48000 0 1b198a49f7cf75eb1493d5beeb44befe55ef86fdce1ffefac4c09a8e84676458
fire 3 48000 1 944707ba0431a928b718dedbc081178de4d644383d0e116ec187c9ffd5f6de3c
fire-light 3 44100 0 e03a8bfe3f7447761d83e59c16d055a890de1efe86dc8cad4d72245aa4ac52ce
fire-light 3 44100 1 f053c57de8c18e25e4f9bc030f3c463d3dab44fcd126f06c30c319412629dcd8
fire-light 3 48000 0 331d491f68932f2fa5d26856db56d1b55fce7fd0022732a72af178a80633597b
fire-light 3 48000 1 7bc955c1b5e3db92cf96f6b78cbcdb3fbbffdf11df085a849d3fc1b377d43703
fire-heavy 3 44100 0 1a28f618696baff08be56c4f6bb57a92208f8231d8d9fe4dd742818604f9c5f9
fire-heavy 3 44100 1 526d2ac6f08a9742969ea518a963ac091f6273c3210c8387d31a263c360ff932
fire-heavy 3 48000 0 52710575842aab93b8ff3a7098ff7c81bf5a1bed070f923b9d8f07de7c003052
fire-heavy 3 48000 1 bc839a2a989e5fe429afa8f4d3e94d280f34b0d523191ac2a9f4a4b103d6d046
forest 3 44100 0 1a92d17f54f869dc7e98088f9970874769047fd225f21c5c5f6dd0a2bbb1efbb
forest 3 44100 1 bf931ad0bdf2634618eb89e7337f29151b42a43a5296ccd88cf84a98169b8c53
forest 3 48000 0 6b2b0487d118a34e3824621b86d539d87044be62f9bd36e8eedc48c4b44877ab
forest 3 48000 1 ebd04897a1c4ad358296f8d09f0145ae7822af3faed44f4222a81183b623763b
forest-light 3 44100 0 cc53038e5fb997a8e8867a4e16d883fe1b64acb16608de6680d33d841dcf2e20
forest-light 3 44100 1 c828710bd7d82c84c5c077c6c457b36fc4ed07f92f70d17281cd3d2f74e7217a
forest-light 3 48000 0 babfe44073ec8592bf62cbb76fea62d9121d10f45899bb737d6d6d5695d297cc
forest-light 3 48000 1 28f980173513679516e7c69f77f14ce77f049288818eec840948bd279801a175
forest-heavy 3 44100 0 9197e1794adba5a155024df0a4fe914c85254af615c6a294cccb24f43c147395
forest-heavy 3 44100 1 d2a1e60c36c06f9e24439466ac9efa0e0ceb377ca59e48859c91b786c528ff2f
forest-heavy 3 48000 0 db821fcb00eda913c30ff622b8c181b1d13e86dcdbc6045d544f473e8a36df92
forest-heavy 3 48000 1 be015105cf3b391e951f6f666ba968606f9fc51aa64b565d235eb7f916709e2b
night 3 44100 0 f05ebe0df6ef476ccbf602cf23be34bd742bb3aba14484569cd13eba16ab18f4
night 3 44100 1 767e9d8422c2699ed0ec3cbec1ce38e7094c44d6d2d6d16baf831f1d89c1be47
night 3 48000 0 c67506223737d4ce434f666fa7369fa6a7fd99043fa690600ba3c7bf09ab5b5e
night 3 48000 1 2e5f8f9104e8c1e1fd868a1dbdb7e22013e7b2d065b68eb91383d905259ad7ee
night-light 3 44100 0 262a631ef1b7dce74e7c3e48fb299d22e900b268e601d391965a950257e99e1b
night-light 3 44100 1 1ed46fd7ac6941d49965832f4edaf30dfbc3a29cd30afe3377993d4e5f355b93
night-light 3 48000 0 103340c32cbffd74b9e5272f4f611682be9c996bfbc7b95daed6cb407cc0c002
night-light 3 48000 1 892591001d67750e567595d05a14ae89de36c3321b1ceb3fbf8adf85f1dd939b
night-heavy 3 44100 0 17556c5fdeaa8821ea68349ca3d1513978b17fa952ff84b188ded85ab6069d8a
night-heavy 3 44100 1 dbaef9a2fef10b45c6daf30767fd3a603c95fd0b0b86147615becb14c66976e1
night-heavy 3 48000 0 4c2a42b09724f962136c77c8f4a66b9473d7883f5d412c8183c4b56277360f51
night-heavy 3 48000 1 5a6b3f7625a10b580cc34382e60671b0b34c96a86cf4f22eef0d30d06371d96b
ocean 3 44100 0 e29bf7766008d155e628331959da5a05d4b1ac5cd61870c16ade57f5b9ab36c4
ocean 3 44100 1 29d3e981d19f1e2b9042609642bd0d7a23a69b61f9c45177cb4dec77e82085fe
ocean 3 48000 0 5f3f3ccc7ef44b7ba901201e24485f63574cc45d6c16b6bb0d134ce872ea380a
ocean 3 48000 1 0fd2e91cc6bba72530e4b583fe22c663ddbe96ccf98fcf1597d94bd5dd8f54dc
ocean-light 3 44100 0 3e99fcbf61eb578f9b7302a5aa49a57009b962e7f7ae998093f2b8629db99525
ocean-light 3 44100 1 8222707f5c862ba721a761420d152bd3bde365ce567ac7aa2682e4595b45d41a
ocean-light 3 48000 0 d74e308f15d1e952e310f41b5c9c60e78ba53e27f4651304709198daab62c09f
ocean-light 3 48000 1 029870fd138a7aaf146455fe0e02f204bb4c1b381284f3a7dab3cfe83a9b96d5
ocean-heavy 3 44100 0 7419b1465cfa2c6b152cb03dbdaa520b6d2197611a6efc1e6e4451e843e4aa90
ocean-heavy 3 44100 1 3607d87a3d716e9c3e2c158f9b0561f420750b2c0af9f3f3cc0db235954128cd
ocean-heavy 3 48000 0 909a999ab20f8afff22e0746f35a90cac7ea434c8fdcf24a6559fc08c7817d24
ocean-heavy 3 48000 1 6123a5e739099659c412fe94ef274235f9843026299a26db7ac8c5c23e40ba69
rain 3 44100 0 b4a10ce5b285b59cc7a7faf9b4985c74cafc020438ef4e74a0e5ad5f39878233
rain 3 44100 1 f406e5ef18b8a0c041a00d7caae80153aaf9838694c25e2a953a12f558f06743
rain 3 48000 0 c2b0290fef2e824b2e560db455404077a44fc37b0cbdb1bbec5743691efe31ff
rain 3 48000 1 024641679e37e76b4873c0765d0f604e77585bbdb70fe73471347d4ef4b1a6e8
rain-light 3 44100 0 dafce6276f1aabbf454f8c0d711046bc1779c7abfb4b639420b8b3647f553b10
rain-light 3 44100 1 d2911d0f275224487910e6393d22e7a599a10b3f67aed7fc744101b1abaffce1
rain-light 3 48000 0 4b45ac59284c79868bbacc243934245d26cf723235e6b5dd82bc8dbb02085464
rain-light 3 48000 1 6ca9da92039e3615e546c27ab3e6c6ce06cc33fa06aea6a0ed6d372887d3c536
rain-heavy 3 44100 0 e424015679452ec7759a7c022f6ec694207c25e98364bdf307c4631f2ccab008
rain-heavy 3 44100 1 93687e6cc7ef48d74a322c654aafb641efd45a4ef81fbbb3ed5868818bca7b7a
rain-heavy 3 48000 0 4600bb8c31d6b07947891af6e5ca102c604d22bdc6fcc61d190083b716772bef
rain-heavy 3 48000 1 8ab4986a9d1b09c7e287639d0a53aa2ce664ebefabf14b3d97377c018735e9c5
stream 3 44100 0 b937e532fd611eb7af469aa4b76de19c44b6700983c2680d846ecc23a53bb0bc
stream 3 44100 1 cd5ca00f7c033d90c2ffdbc8844a28a89844292f983b511f13b83d2c9f1e38e6
stream 3 48000 0 4a0130926a37b732e443acf4d02413f681c768d5b538d94ce6aa2ac0328d10d0
stream 3 48000 1 377a227c0df105fdf6347760aa00c2886687ec1fb569771841fa0176c3c379c5
stream-light 3 44100 0 707d38b907e924c11117b36a29c8856089e0c99a8254db1aa3c25dcd2802eb4b
stream-light 3 44100 1 199306e39fa9aaa77e1addf1df4c3d11b858865cbe25ffbde5d559f302d6ced0
stream-light 3 48000 0 29e63a4d4dd4810a72f7b77454124be4a6e8f483954ad425672cfae1ceb047d7
stream-light 3 48000 1 21204a578904ec762d2aaaccdb3feadd19834ac2fa882cde69bc59f7ca0798d5
stream-heavy 3 44100 0 7db3aff0553e4af32bc3e61fe561820759141c7c129ba3ae0e4eefc72f8f21e4
stream-heavy 3 44100 1 0b5cf738739e94622f2cd894ca2263f6b2072e66adb7095065c0fa76a52cd33a
stream-heavy 3 48000 0 0ff38f842152aa8aaa4539df31b52606d6cbc18482e5b4cd0b1afbadfba726f4
stream-heavy 3 48000 1 630063c9ba2aed327317879021c2a54ed7cd80b08a917fe5965ca0f6094eaf85
wind 3 44100 0 6d2c1f124038b1efe41fb512f2c25fec67d5690c926bb29f01851aabf3a38222
wind 3 44100 1 13deb74400fa7938411aa5f7014aaaa5db118b3a0d6ea3a11d8214c5d615f9c4
wind 3 48000 0 245ea72b0f21fdb09328215dc332b9896bf1de3309f6bc7b2e5f6de2e3bf54aa
wind 3 48000 1 559c5a35ac350069c9d0a52a671ec0402fec14179f01e00865259ea868b63e55
wind-light 3 44100 0 bac73704e698f928ddd71036ce3e4d3b81a5f784fe085e29e76cdd235361a7ad
wind-light 3 44100 1 b9bf98bd0a4d14436317ff272ccd2f020548f324d4a4db653f438fe476a1005d
wind-light 3 48000 0 1112c747df124d8ff52b5288f38c855d4238df85df9e609a4f0cf16391d4809e
wind-light 3 48000 1 55c945794c86e4e309e7b4137b9c72d4e19ee48462ae77005738feaeffc01134
wind-heavy 3 44100 0 ca0f2a8b4b8c58d18816593c1adfe84ab75cf62c54da99b14e4f1d99dae1fc05
wind-heavy 3 44100 1 ba40839ef7f574eec3cff75d5c407e2bc5164299fa60f8d5eed591f6605040b3
wind-heavy 3 48000 0 137b967e02580937a6ca3a636c19f601a697e930bd36694843ef7d1bc711f3f2
wind-heavy 3 48000 1 457591379dd159ba76216e34803f9f6e2edece4454fbe59d82a831c3a3b8f6eb
brown-noise 3 44100 0 a0fa524e5ad0090957e82da650bd1ce15390af238b45a83859d221662ad03764
brown-noise 3 44100 1 ea63518234a50f1b82b2870775fbf0ab6059806543d7c423227beb9cbbd2985d
brown-noise 3 48000 0 b9def34509421856f4cf6e1dd470384a7594a5485119d40b163de0ffaa16a93f
brown-noise 3 48000 1 df86cb3a32633bc3eae810ad5a9d456ddb4fc08da0c0afd048cfdf0a8c2c7e76
pink-noise 3 44100 0 522d30cdb91d21c28f55c27e2a16be529284dd0bc9400b1f47782cb6c0c01043
pink-noise 3 44100 1 cc30855841ca30188db63bb01687fbabbddde03ea16ae4be703b45c4d696343b
pink-noise 3 48000 0 936eda592d0818c4fb730e8c3f69297459be6ee92cf0d9bf9a7d1f534a396b7b
pink-noise 3 48000 1 6f8e78f895363fb042a43182a294f59cc33252276b799ddd44143c6452332f5a
forest-stream 3 44100 0 5d324ba6df59a7ce1b7186558f3e08390fc7a2b29b2522940768220349cad3da
forest-stream 3 44100 1 ffc66266a30aa2914a810a8aeea18e5ccca80d1c1e206536b197da6c4b3101f1
forest-stream 3 48000 0 792791f8bfff819495a47cb91b03dd80e5c9bf6072e6ca7993dd42e1d494226b
forest-stream 3 48000 1 cd4000f6abf99876121f1af5b902d41c9401b1b5a2e54ce01707a4b00c9ab436
rain-on-fire 3 44100 0 97e72389beb33a4d51c173ffba8d7fc38a36b8ca2e78c19cac82ed7c6048fe6f
rain-on-fire 3 44100 1 436ea659e8727a93f43844d78fcadfddb2143fd93ec8b5bc959158bad0fad6ae
rain-on-fire 3 48000 0 495549e48974987dd1a0d58ffc3350698525f49fe6e3d30964f9eaff9f70078b
rain-on-fire 3 48000 1 666ea8a99ad8877b7f1c5b1753f0bfed5b680befdcd0ea77cb36056a26dfebd1
fire 30 44100 0 985fa5073469ca5e34b89dd54204a5b65e0b029d34ba8fa7f632a66bfd5f7e09
fire-light 30 44100 0 7a908b2a9ec0ae2f41123063ddd1e942b895de7d4c225657c09dcd1c3bede31d
fire-heavy 30 44100 0 ab1d1084376a76311aedf8de1e073bd7e2d09d700152816d19dd9c9b50eba5e7
forest 30 44100 0 a015b2ea400f6899ceb8e0099915eb6483c88eeac49cafa694685ab43964e750
forest-light 30 44100 0 75128f075b3edd9635e3f4828424d1b575a4b45aaa9dc2ff03de086c0c802520
forest-heavy 30 44100 0 20446199fe1d07814701a72af4fac2f283e819bd578bfe0d1c9192a091da7670
night 30 44100 0 7fe37e52d577b4cd8ec9048024d27e500e202beeb60c818bd2a6ec7d9e008baf
night-light 30 44100 0 1b33f787dbd8c2ded02d4c845aa13ae56b5214cf3078bcef07df3f1ef4575f5a
night-heavy 30 44100 0 d89ebcb6fe966f07c9b5c8e436c816e83fd823550ec8082c5839a191347ef981
ocean 30 44100 0 4dfb1ead99c19e2aaf927a0300ce7e2543ec6e8b1d9554315e3ead94e02ad4b8
ocean-light 30 44100 0 79a5eeaa35e3cb8440859bf3d81ad54cd07f37365877f4105b19756ef23b1fd7
ocean-heavy 30 44100 0 5f34c26b28db3f41c4118f977c469276f4d6dc90a45089000d9a42c45a36fb69
rain 30 44100 0 4fea4b746c5cd871dd7c8fdac8fa70c45dd58fe0f94d4de58ab1b9fa22191d6c
rain-light 30 44100 0 eb921bb8eb0fdb6450ccde8a0268a8daaf66704c615ec733986c6e743d7c8931
rain-heavy 30 44100 0 ce716bb59cc7a5ef9da48ec0df4dc8e12331a51fcd881f95229d412cffa10aad
stream 30 44100 0 b6718e09ed816eb17432327d875462cedb99d3d22aa22221bda74c1c8ba19574
stream-light 30 44100 0 1bd26b15b91d26ae373a0d37a6c1b7c63355f5272839260fcc2cddd24c1997fb
stream-heavy 30 44100 0 8a585c83080e1ed4d4be7ed95dd13b9241ecf0634c54409d762bf52fa5fca2d7
wind 30 44100 0 02043f77619feb34e5b9fe7c367d27ce7cf6716125489a1d3e3decdfb2fa4978
wind-light 30 44100 0 aaf2e09a0484fe05ebdc3fd5757aa59ccb145f045b27ad3f7c9a119ef1e84a0b
wind-heavy 30 44100 0 55d1daa010effa0d8e37f4b660aaffdb2bd4e5b38b4bb7e7ccee7731459cae1c
brown-noise 30 44100 0 c74f7ea393edc06030bfc810ad0c6aad6b773df0388c5adff2e1d57243516654
pink-noise 30 44100 0 7933de34a6da1a8be30e7bc87ff081ed81220d01374880f059a81cbadfbd67e4
forest-stream 30 44100 0 8f9e3996e4f1089f6948125fe3ae2b7604fe692ee4fe7b40912f5f0c0ae2e983
rain-on-fire 30 44100 0 18c366122d2191493b8116dbfab9e6265f46335000fdd19bb3ae23573011df2a
"""
GOLDEN = {line[:-65]: line[-64:] for line in _FIGURES.strip().splitlines()}


@pytest.mark.parametrize(("name", "duration_s", "rate_hz", "seed"), CASES)
def test_bed_samples_are_unchanged(name: str, duration_s: float, rate_hz: int, seed: int) -> None:
    key = _key(name, duration_s, rate_hz, seed)
    assert _sha256(name, duration_s, rate_hz, seed) == GOLDEN[key], key


def test_every_case_has_a_figure() -> None:
    assert sorted(GOLDEN) == sorted(_key(*case) for case in CASES)


if __name__ == "__main__":
    for case in CASES:
        sys.stdout.write(f"{_key(*case)} {_sha256(*case)}\n")
