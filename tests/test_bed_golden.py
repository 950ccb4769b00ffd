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
fire 3 44100 0 197c203bca5e7fabe0fd3f8723d32f43e7b41acb58bfdb71bda399ad04a3bbec
fire 3 44100 1 a562e4f80867b150b23255544c8e3b27a5bd3b8599240b86164eb84dcf19ef4b
fire 3 48000 0 138e53f4613084d79acc56a4e1a034b067d597005f0d18bbaf0222c78fdc24cc
fire 3 48000 1 09419454c8e259c7ee58140e3336053145e6ef737bf827f5b70b90435eaeabdc
fire-light 3 44100 0 de07dc733f315db36421bbcd90f50610d3ffc1fcff4666a9ea4f1984a40c00e2
fire-light 3 44100 1 90c88310aebbf18840d450175104546199eaf24249b8a6e00569ac1cbebc147a
fire-light 3 48000 0 2043ae1477ed3bca573fe6f889d16584fd81c45d4baec2f85e2043e32ac26d21
fire-light 3 48000 1 e18ab1fc271fe277813029f8c58e9132b04522ad26006f46e4412a0d9145b8d1
fire-heavy 3 44100 0 0e40d0c183696a242c2f673ff0ea523a2f5941d853a034e3bc74074b1359af62
fire-heavy 3 44100 1 d1a9a9486518e84220dd8b6f69b17294c68a375434ac34cf9dc8c2ae02649dd3
fire-heavy 3 48000 0 812c2302eab44c844514bb80d202fe6c924439457430711c2f211b612401a99b
fire-heavy 3 48000 1 0647052e7f96606a822016d2df86cf398b33ee462004f5ac6dca1aded8c3510b
forest 3 44100 0 fef56f0169f5e3fb4475549f953c18b0055cf633539e3626718708488861e757
forest 3 44100 1 6eadd23193c7e320943c93b976e9fbdb1ca4cf005ecf3c7d97f7b28aaf16b660
forest 3 48000 0 b3d5e0b09d899c07d3b344610977cd0cd935070c79e33aedc3c18ab359f770ae
forest 3 48000 1 e0a5f74c875da7a92086111a8d320ce4ebc66b59b9d8cd15b21796735dcc3f6e
forest-light 3 44100 0 80a91c9d9fb6f39586d977a6ec89001458b486044ad791127da2745340287067
forest-light 3 44100 1 867e4500f60378725cb48cbbbd51b1861811a38a861d8462b1d1fd28bef91696
forest-light 3 48000 0 32f2fb789963e07d8be3be044bc91ae11e2ffdf77f5ef07dedf4e00c9ef2cacf
forest-light 3 48000 1 9244e907a925209c3e02796dceb43853a663565a53ac52ad8a1209e7b94c58b8
forest-heavy 3 44100 0 3fa57cdeff662d7b11b70d9e3f97b78913bda79337d03e33a1bf2dfb9c25f97c
forest-heavy 3 44100 1 a667a687ff9d583a045ba378fda5ebf73898a1eb18dbc39b4273c0010c11b6ea
forest-heavy 3 48000 0 1f7d7122e8303f7ddddb7a28dfd11be1ec6ce42341c0db8114d9330a7b2effa9
forest-heavy 3 48000 1 40e8546c877eae5a032059d75652df0690c5708aad0332a7016dcabbd6cbca08
night 3 44100 0 f17d0202995d4e76aa704e4c14017be50b4c91b546ac732bc78d0d24b641241b
night 3 44100 1 80552dad0dfb397f8ced583c2bfc63fabd6c60aab56c01631f9676df1f1f34ab
night 3 48000 0 af632ae4567b10ee61a742e457e9ce48d917a387da83f263de82958bf30ad9d2
night 3 48000 1 c9bece5927fc14d4846b5d9eab7ef41f96815ba961e3086dda13c304f731be9d
night-light 3 44100 0 515c8770febc518ec1779ec45056e6068d5ecf3ceecb408a53583194ebf72260
night-light 3 44100 1 e710e7774cbe4bcf9586a66a02066808b7d2192c093fc95bc185c477e1842609
night-light 3 48000 0 7b5745c1e384020b04ffe4f65f1f9724bb4aeb68dcf314126c153ca821d1a7c7
night-light 3 48000 1 05a330cbde6a8382dcfb9bfdbc9083afe151429212118583b7e778dc3416dac9
night-heavy 3 44100 0 3bc121fd3c8af86a758728190956b6fb53f0b195219b09f722855789c3c6ba60
night-heavy 3 44100 1 bbf37a027175a2bf6f672c44aae74750d58c62de0b933d2fc1569cd881c5ad0f
night-heavy 3 48000 0 23a4772a53e36239e537e8d680db30bb748ce4815505664f07cb0a4ff8db9672
night-heavy 3 48000 1 0ca4cb3da9ff2e27ad4bcb37c579e4f3a42553f5d6695a8d26d385f2f5c0acc2
ocean 3 44100 0 8fe81f67a67566bf3ca04228362882f47597e26cfa496196ecea351cc1d2ef9e
ocean 3 44100 1 f11889f30e6326fbe89533d65c77d595bf40935667daa8dff92c350d6a9b1838
ocean 3 48000 0 485b0623e889031cfe6eae358230e1dd0ed0823b2075145a9e001a3e23d0288f
ocean 3 48000 1 9760a61bfd7ffd5d4cf05fc2a4384916a2b3a8c4be71771f66b4f246bf7826ef
ocean-light 3 44100 0 b0e04ffe46ea556acb202f385819733cac319a0d5ad10277df5f7bfa553ac129
ocean-light 3 44100 1 467e48ae03bd47d8820e970fc426b6c24251f9f581d4ba1729aa1267d21e8649
ocean-light 3 48000 0 77983650b12beaa90d0c6db41ead8b4c1199a2c3a1245b9e425b1f8769c803ad
ocean-light 3 48000 1 360634c5d91fdc15f8ec480c6a91e1f7eeb5a6330ee316a249197305d7525f10
ocean-heavy 3 44100 0 32cb2c8faff14add3317ae32db37d7335c3de42323d27a1cfa21e983c9ee9388
ocean-heavy 3 44100 1 1d14cf47e3c77397ac48eec9d48aee4eefabd135840c97e2353a93a0ac3bb506
ocean-heavy 3 48000 0 ac98de0ec058f2f5393866d65dbb957e7300b0f741fc274cc1c6806833d51e8f
ocean-heavy 3 48000 1 b0f580a48cb4b13209a71233a661f2ea04b68ef93e888d2e816cb1f1661547a4
rain 3 44100 0 d305b0e8eb75c731fe12301d7b8fefea474536d8d668d896a11f1dcb01a296d5
rain 3 44100 1 d922f6374cebb641eee7356ada6d38d823e8969c3e4a63f20ed5e5480f1f09c3
rain 3 48000 0 04cadce511204d9fbc3094283cf23615f66b946afd24e245cdf7132d7e57eb9c
rain 3 48000 1 2e999de960ccb54d2f0f8ad4cb35b04cb840be7486afcc22442aaeb2ee678e14
rain-light 3 44100 0 20028a7d2149bd0c09f5ca50a947e318c58b7f288a278f255c1471c2916c267a
rain-light 3 44100 1 69d45dd1b6a581fb40de5dd3bbee9d8f9ec4d738b7c28b7c4ca9a9e800802b69
rain-light 3 48000 0 a5668b7364938b243f49446e1b554ece11cd4df0dd6d34b07356dde4d493e260
rain-light 3 48000 1 fbbf57fc35560e09874bd2bfc7602aa1ad6c7f5bc1cdfe93c6cf7569c2d142bc
rain-heavy 3 44100 0 ec56c62a97efb3955da03dfe347253c8aca128a58be08b50139d568682558e39
rain-heavy 3 44100 1 2cbbda3b35d7fc542a071eab27ce05a5d3e2bdc5ab91e9fcd1220f93909871f8
rain-heavy 3 48000 0 be01ccc8b2d7559e8c66edcc0921344197d939a985af26480053359caef00503
rain-heavy 3 48000 1 5e56308e3bf5d0db65e496c6b3bb05f9c9be37dfe1ed35f147c801825e12a0ec
stream 3 44100 0 3cf89c392661cdd44de72170dcf755731c219d714adde031a7c3fdf5f5cf9ce8
stream 3 44100 1 cfd9b79c6328a51ac85513f5005d5a7e5d96b249d2d9adeae49f910b70bcbc46
stream 3 48000 0 24d151fbb0b937e50481eea99939c419ea6cd3f0d40e270898ffecd45136f8b6
stream 3 48000 1 d54d40de6483f12ba9eb41de93ab5de73281c779468c1df68ebddee8d72a5e1d
stream-light 3 44100 0 7bbc0ce31ecf2156972bf00edb114623f720267a8847d7031339f870294d8e8c
stream-light 3 44100 1 01d3133a1d0d607cbeef82818d0383c0b6d4451f94e51c6bcc493c17c8758966
stream-light 3 48000 0 e55907a241c5e1bf3fad674b148acb37d3b60f0455eea80d69c6b40aa8b30592
stream-light 3 48000 1 df1bcb186afbbf4207eabd9e1c6f8b1853a2ce095a5b80e5f9c612c108956523
stream-heavy 3 44100 0 1c843a6cad867a16f0883dbe32bf353742361ccaf46919ce0b658f155352f95b
stream-heavy 3 44100 1 a1e946acce6ddcc9b1e9b8dbd22cb36171d6a155926f057e1aa9b4a139e4b95a
stream-heavy 3 48000 0 3c3cde21393afdaa75092043225da18935f2f98cd5223d08fcaa1babd3c71038
stream-heavy 3 48000 1 d1d48f74af953de9a143ed5e504220796d8036c5b5abf41bdf28fa3ff76ee05d
wind 3 44100 0 bee963163cded2b82cf2f6ca085f582b49729190ea53011b55f826ce1f7f9122
wind 3 44100 1 4d370055b1af71bcf79dbeb50c0e408540c382f9331cf53a9f948788c6bce5e1
wind 3 48000 0 3dc2b96e191f76192b81cd93f6efada016d2e51f3a5b287a8a217fd475e76c75
wind 3 48000 1 ae55268c65b56bdf9b90a70642f14669ebddc8a7ad9947cc8e64ce43ec797f5c
wind-light 3 44100 0 d85d859bd1574bce81c3ad19d4931ed21c81f92f0b6e36050ec913c61a44a3d5
wind-light 3 44100 1 118f0785a564e684c08c5ddc2edad9b95a09be28b4b8dcb8b16e67746a55907d
wind-light 3 48000 0 f7bc2ba29544c887e73ccfa667a3560ff66d8bc27b4262d2ebff57bcbad49cb1
wind-light 3 48000 1 c61b26dfc0f3785e815dc5cde3f7ad3f0ff9338ba5ccbcf227176d29c75a8b3c
wind-heavy 3 44100 0 42931341f1055a8f4a61b9e1b7b04cf97efe44e671c7341278443666b7046e55
wind-heavy 3 44100 1 86726b26c3f2875f025198d44f78cb6e0d49d1109000623c0269b8ea6a931a4a
wind-heavy 3 48000 0 6ad994f25832210d99333ca9e55432da1059874a735bfd09709f101bf1e1c59d
wind-heavy 3 48000 1 8ff19652e78021b1987f91b6fe0a3adfe4ef90687b009e555f3df4c217021fe4
brown-noise 3 44100 0 ea4727ee3a945740c37065cd7ef0db20679522ab835e2c9821cb695acd99dedd
brown-noise 3 44100 1 65890766814a1aca371dba151da9ed084ff53d8affa3f98f5db1ee467f138f4e
brown-noise 3 48000 0 2e78e45bd1012ebb2c5d9421bd3382da55d2e70cd0d7ae93c9431d0e992f4b7d
brown-noise 3 48000 1 0d7db5d9d096576d30100d6df87c2f0435dcf7364a6990dbd7f4c4122e9a46f0
pink-noise 3 44100 0 eb901c1b26383d4211e2a4314d3fd74092ce1c9cba67aad86e21de982f38ec60
pink-noise 3 44100 1 544cadbb063417e0717da0940182eb537c38fafd12c9fdd99a150346d04cd748
pink-noise 3 48000 0 3a67461dc7000031b27f1a2db8a527a7c4b9f7c3026cd4be2eb32943d6ca3e0b
pink-noise 3 48000 1 3eec58078cd03e3c6c81b37548dbfe2598ae8cdfc66197ed88ec663023a375d2
forest-stream 3 44100 0 0c80bac456c8c1459896f1045c558d4071c7db1d090e7e902741c36d48ae6bff
forest-stream 3 44100 1 1c1eb823b9686bfb83fa47e84927b6fb6d3d228e8255f68562f7ebd9615b0324
forest-stream 3 48000 0 7fbc227c45270ceb812c035195fe764e7384dcc33b5616ea0edcf7cf9eb1ade8
forest-stream 3 48000 1 6b726e5451180e29bae7a2cb8973daa11522630a68bfb8c826019d10b55f9bdb
rain-on-fire 3 44100 0 dac0be1feb228220ea3a13eaab4e655207b79c7430e533d5875237b7bc167486
rain-on-fire 3 44100 1 40f209b0152d8a5bbd2c052befcda04b0a8f358af98135011b7d4ef3e719da20
rain-on-fire 3 48000 0 af28d073b7ff78b647e71fdfd338755f2cb44fe2c4a1bcbdf0ab31f50d8928df
rain-on-fire 3 48000 1 cf44aec6d0e64a11d6f4995d22d3a86a75ae78c96c841e7c94a0664fc89618f8
fire 30 44100 0 90104a2c85d09f3ded66346fac32c6d5c76b8bef109ac74100d1f9a8a9d675bf
fire-light 30 44100 0 afdcde0c7a20a9ea2131fa277f393390d4618e63d9de71dde06526e30bc0f6e6
fire-heavy 30 44100 0 26c2bcd33f314372bec46560a551e6553b00628cdd46b7587064e6106029b0e3
forest 30 44100 0 81dffc29418c9addd30887a887cfe3a576bf1701eeef12a8cb2e14c48ff915b8
forest-light 30 44100 0 becb79df9e02a0434af4ebe8916d777d1ac16849112ebddbcf86484e5f63f340
forest-heavy 30 44100 0 75affea004cdc35be33b619e17f23a175821f62b41f39e6fcc7fd259494a97e3
night 30 44100 0 f2a29a746f6dca672f7323c361d7329eb7f76d748fde427df4e14b05ec0af44c
night-light 30 44100 0 f1460a27a1fc6c0f95b2b2539a991a8fee73bf02777de145212a0a4abd101463
night-heavy 30 44100 0 5df472ef7933352428aeb32bde31977973478e8191a365475e12c4d199149d66
ocean 30 44100 0 f712f03dc9fe50ed938d6cff3239e9ce0f65087312d3de737b6b68b659d81a15
ocean-light 30 44100 0 0b7cb2833e34809242f5cf0aae833624d1dbb283fd5b8e3790f870d0faa7fcd7
ocean-heavy 30 44100 0 9f2f53d27712e4f2029eea1dab7da1a70c1522ddf3dc00098810bfd16d01f186
rain 30 44100 0 733aa099e9a98fbf4fcca781d5167b6febd0cb32a62e8f6d98d996dbebff0f67
rain-light 30 44100 0 7524bb17c437202efff19972d5b7d1baaab696869203bf361cb1fc415c9ca984
rain-heavy 30 44100 0 52a73676f0b19ad378291e2248bef48677ffbd3ef9587497fe9dfb76e6092414
stream 30 44100 0 f246df3a3f0cefcf5b2313b4e68a7a2caadce4f0be16ccfce9d75c3acb6452e1
stream-light 30 44100 0 2b69bca0d4839fb0366b295708378f2f5480b9b0ce5a8e62aac3cae28be00079
stream-heavy 30 44100 0 8aa5daabe50eed82ca0337a89fb7075cfb25c1538cd36b6267f587b203413217
wind 30 44100 0 979c5117739a452912b50238cc18bdd302cc91b78230ed7c33f619d0b44c11f1
wind-light 30 44100 0 c32f8ec7b7e56e406853d8c8944279d7c5eaa098c4fea142f729ab53b9ba9b8a
wind-heavy 30 44100 0 ac649466d5d012ad17616e1b93088979e4de538461127cc50f3ca5b54b9adf95
brown-noise 30 44100 0 e6e7a7e881e79f72d9e93685ea60c26d855c41bbd23095f34214947590054468
pink-noise 30 44100 0 f3cf4c27ace9e5f8d4f53fb8e09b484e8d00fb22e6179882882ed00d8642ee1f
forest-stream 30 44100 0 5d7310ff5d4b528ea0b0f25be42fe42c8832a0f89ca04879be3d119d34f179f9
rain-on-fire 30 44100 0 ce6a59070aa1e0145626f48337679bff4446e07e02d464444ab51bc8402074d9
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
