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
fire 3 44100 0 5337c9539b4d67907fe354eb3b1fe061550782cb797b70d59ecfb1701e665698
fire 3 44100 1 54f3d9d4b27c3cbce759140243270494128d88b507a0771e4785830398affeac
fire 3 48000 0 6b751241814a8fd1d570b532d25468995cc7ff1f232aa1372fbd2bf65a706cdc
fire 3 48000 1 e9722188c31e46634cf3b7bcbc31f47c0be385b39dbd9ca2a0264753d8f41233
fire-light 3 44100 0 49b31517effb8c23d2672e669a2883f92e4c180fd1c27db850ddcbca92ce01fd
fire-light 3 44100 1 0f19d61f9d2e8bf625195953e379d0f4e8967b864daffe6012d5495ed0c308e4
fire-light 3 48000 0 ef77f90251873253f7e9877cacc95b7816c1669995bf509f8191dd2ca886475d
fire-light 3 48000 1 dd6bf893d2e4304aa0a5135773d6e092c15ed1b195f76f452ec1e1490ee05de9
fire-heavy 3 44100 0 0cb656ec9947c947f8988bf37a02c949050c7b37d108c8f4cd594c12ebeb86b8
fire-heavy 3 44100 1 9ccc803ba487b785edf518a91a1d0b5538a2a72a73b68454a1e81df6a13a293b
fire-heavy 3 48000 0 dceb576af345745ec53c36444c9a2347162ca2a107b5d8c648d33f76f7f66056
fire-heavy 3 48000 1 c8c129a764ae352a28da000c60e7756c24dc2cd716f7e5559bee280fb45ceeab
forest 3 44100 0 e559b02f6b26647df355e3d254398714f090e4cfd699fc3da3f616afb8a97040
forest 3 44100 1 dfb20d1507496421e9080031eb5918c23ce3d959e01e2cef5067ad9de5daa282
forest 3 48000 0 824923cee66da62816e2bd7ffd73faff5950dfb38b87d6f6a206eed3e5452bc2
forest 3 48000 1 7977ce61023e34fdbb8977394529aefaa37f3075aca87b331c75ec30ddfb3b7b
forest-light 3 44100 0 cc53038e5fb997a8e8867a4e16d883fe1b64acb16608de6680d33d841dcf2e20
forest-light 3 44100 1 c828710bd7d82c84c5c077c6c457b36fc4ed07f92f70d17281cd3d2f74e7217a
forest-light 3 48000 0 babfe44073ec8592bf62cbb76fea62d9121d10f45899bb737d6d6d5695d297cc
forest-light 3 48000 1 28f980173513679516e7c69f77f14ce77f049288818eec840948bd279801a175
forest-heavy 3 44100 0 e99825a962edc28320bcee2eaae7d7816433a7119c639702b2e3fc4cb2e7dc72
forest-heavy 3 44100 1 ef073a60d03e9da226ec80c5918c6b33062762bd901a3e70ff29543cb7940527
forest-heavy 3 48000 0 3fa7d9036037863ea489fe1ccf0eae2660a9147ecb0a31a1a776b9ee962ad954
forest-heavy 3 48000 1 be767fef39a690cbdd929613b9d37c5e493a1dfc9657d65d2e267da00f6c7dae
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
rain 3 44100 0 4af15b0b22501b36095edbc7d9d5dc0b48b54c149526f5fe8fe3b3a8faa45474
rain 3 44100 1 f406e5ef18b8a0c041a00d7caae80153aaf9838694c25e2a953a12f558f06743
rain 3 48000 0 0b90f7112af3fa9e2624c66ed108bbfc5fc4c10b4abce4011a9c8e7e258c0050
rain 3 48000 1 bc1ea87bb23852ac5f6fed466dd938d6a62c6adf911f080fc65ca19130e35982
rain-light 3 44100 0 dafce6276f1aabbf454f8c0d711046bc1779c7abfb4b639420b8b3647f553b10
rain-light 3 44100 1 d2911d0f275224487910e6393d22e7a599a10b3f67aed7fc744101b1abaffce1
rain-light 3 48000 0 4b45ac59284c79868bbacc243934245d26cf723235e6b5dd82bc8dbb02085464
rain-light 3 48000 1 d14e6cbb17aec6866cc5d1edd6eb42e771b31b6b61a4e7aa5807400a7d805da5
rain-heavy 3 44100 0 d42cdf488d4be53b97df604d27ed0212e936cc3cb75fdbd95807150d73df0840
rain-heavy 3 44100 1 96676ca8687c2672d03fd09d72d2c3101136c331c2ce1b8d7798428cbd818a7f
rain-heavy 3 48000 0 49ae6dd5957039b177a93e569633c6a996bd304cf124d498bd846d4356a9f493
rain-heavy 3 48000 1 8d118da630bcdb9f43e7858d9cf3208603e6091af53110ea85686457c31c770c
stream 3 44100 0 56f463e2bf62bb4935f4304c726a0990a9fded530971c44a317f6445b11461fc
stream 3 44100 1 0ceaf811406017a9b5a80ab97ad9d9c74de87b1b88b269d5cf383b2149d82412
stream 3 48000 0 af0d4b82fe9181f6252b3164e31ab3fa2f7c69dc6d5ccc1cb03a7b9bd30e5f4b
stream 3 48000 1 5a9f68bfc93d3356c50029529d8cc82e25ebeabe1f13f86251d85b0d2e70c792
stream-light 3 44100 0 be046a1af2b2338d9390c46f25d49dd9169f90d03b0b2ade75f12f6b316d43a9
stream-light 3 44100 1 d834f7286e27fc9016b419dbd5334f8a98384fab76e232d5d98ffc76ace1cef4
stream-light 3 48000 0 2a85267abea865fb3f9993c5d82e1c3cc25b557aa880b9c78a51ce3443ee417e
stream-light 3 48000 1 68f8733c1461bec9ce246e998c0a88c74c5a6776d8127f848f8d2756b68e5c03
stream-heavy 3 44100 0 705ef12950e5ef1d411b640c49ea3db8eb8707a54f46ce8d7a9d7bfc81b059bb
stream-heavy 3 44100 1 33bade565909b862a408f923ea13ecab2caa54dc2a94cdf5435da74df2922d75
stream-heavy 3 48000 0 b6ee5ebd5b8401fa866254fcf4731f6d67a79b705177cdded305ecb0f377138e
stream-heavy 3 48000 1 65a00bec64022d0dd785bb3b2a71d6ca1db717dfeb43e031c363133a4578063d
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
forest-stream 3 44100 0 72268a1172eb8de76a7e7f8456e5273c876efee3f50812742030515485cd4797
forest-stream 3 44100 1 66256d8b07846fd8da0637a3a32d66f757c64fe5f029f6898e92c9e1683047b3
forest-stream 3 48000 0 fd36820dcf2864879ff5e451fbbfc76a4956d2f1a9ce813a17cef3ece2eb6295
forest-stream 3 48000 1 717fff7746a3077172e5ddd39f25d872abc5295baae6b239b1207917e2ff3149
rain-on-fire 3 44100 0 2fe8f311b4ce677c375f0ae3f7e608b4b6a65f8eb34b389ce4ba1b50bf638246
rain-on-fire 3 44100 1 39e6d8fec4a16db0da065c5bbaa3be8e5acbbbcae042d904ec50a89bcb72cf28
rain-on-fire 3 48000 0 2c25dd0327fd9dc2d654315f98d2af9f19a192b1d71113d7f165c29425ce114c
rain-on-fire 3 48000 1 215c64b9eee5c1651e7adefa0d89fe0d0349d631fc97f89736e56388c8192bd9
fire 30 44100 0 b2d7ef06e4e69afac2f38824f556fa041e0580303f01b8468fc9a34d89388580
fire-light 30 44100 0 77e8f6a78e8279c277e0591d79eddaf741b4a4a13676a76cb260516fe04c7618
fire-heavy 30 44100 0 fa89c790887d61f4b22c6c7fc4635da1de05d3a8ec000042f4158cb61b0638a6
forest 30 44100 0 bb2591d03dda08d5cd1c5aaf244185bfdf31da56a3cad227ad4c75e72e92979d
forest-light 30 44100 0 031a00b9121c573729fcc592a11914654517476521133ac7883714e5ea689baf
forest-heavy 30 44100 0 5006805cbbf68ada8c00b9d3f3128acbc16a8c6a99d1195120993129fc9f5127
night 30 44100 0 7a99da85a575f647f8fbf5fbbfec1d2f4f7b4a292b02bfa620749a2e92823727
night-light 30 44100 0 1b33f787dbd8c2ded02d4c845aa13ae56b5214cf3078bcef07df3f1ef4575f5a
night-heavy 30 44100 0 be2db5b5af09d5bfe7e8cd342e3e8d4caaba1b03009f6b167e21bc1dfb316554
ocean 30 44100 0 4dfb1ead99c19e2aaf927a0300ce7e2543ec6e8b1d9554315e3ead94e02ad4b8
ocean-light 30 44100 0 79a5eeaa35e3cb8440859bf3d81ad54cd07f37365877f4105b19756ef23b1fd7
ocean-heavy 30 44100 0 5f34c26b28db3f41c4118f977c469276f4d6dc90a45089000d9a42c45a36fb69
rain 30 44100 0 1703c3d839ecacbcdf7fa8f5e4029e21660b6ada3507cbd86d28ecee52039618
rain-light 30 44100 0 3dcea5ebfa45e94410b0b041af9c17c95f4de4abd5e4d32f65c0a3e729a50c9d
rain-heavy 30 44100 0 9aecb6aef74c5ef98d895af56be16f39ab9d121693e6bd0ff39e2d0cd4d405cb
stream 30 44100 0 7b8392fa255acf5ae75a78d624d47e2904920a7b3bb5b53d9df93d986c83da3c
stream-light 30 44100 0 ab3fb4628bdf0f78766e5d36d7d315a983316e5bae61caff1bc9f07ffaea2249
stream-heavy 30 44100 0 7d2cd5a9088e07172cef2e1ce7b9591499202d5d0896cb11580e1887bec99454
wind 30 44100 0 02043f77619feb34e5b9fe7c367d27ce7cf6716125489a1d3e3decdfb2fa4978
wind-light 30 44100 0 aaf2e09a0484fe05ebdc3fd5757aa59ccb145f045b27ad3f7c9a119ef1e84a0b
wind-heavy 30 44100 0 55d1daa010effa0d8e37f4b660aaffdb2bd4e5b38b4bb7e7ccee7731459cae1c
brown-noise 30 44100 0 c74f7ea393edc06030bfc810ad0c6aad6b773df0388c5adff2e1d57243516654
pink-noise 30 44100 0 7933de34a6da1a8be30e7bc87ff081ed81220d01374880f059a81cbadfbd67e4
forest-stream 30 44100 0 dda65798ca57b922bd0a0b70f5fad194097ee4f0c25713130a64500153fb4e65
rain-on-fire 30 44100 0 e3366ad2a2da0962a05ce423f99fc26c1852984f0ea15d98cb1b801cd7bcf13f
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
