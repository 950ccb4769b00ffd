"""The bed library sounds like its names, presets mix their layers, and the avoid-list sees themes.

Each bed's character is measured on a 30 s render (seed 0, shared through the cache of
``test_soundscape``): spectral slope, modulation, event density and rates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from numpy.typing import NDArray
from PIL import Image
from scipy import signal

from imr_audio.cli import cli
from imr_audio.errors import SoundscapePresetError, UnknownSoundscapeError
from imr_audio.script import ScriptChoices, prepare
from imr_audio.soundscapes import rain
from imr_audio.soundscapes.catalog import SoundscapeCatalog
from imr_audio.soundscapes.presets import PresetSoundscape, load_presets
from imr_audio.workspace import Workspace
from test_soundscape import SR, _long, _render

Array = NDArray[np.float64]


CATALOG = SoundscapeCatalog.builtin()
get_soundscape, render_soundscape, soundscape_names = CATALOG.get, CATALOG.render, CATALOG.names
BUILTIN = {name: CATALOG.get(name) for name in CATALOG.builtin_names()}


@pytest.fixture(autouse=True)
def _no_user_presets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts without user presets, whatever the machine's config folder holds."""
    monkeypatch.delenv("IMR_AUDIO_PRESETS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _mono(audio: NDArray[np.floating]) -> Array:
    return np.asarray(audio, dtype=np.float64).mean(axis=1)


def _welch(audio: NDArray[np.floating]) -> tuple[Array, Array]:
    f, p = signal.welch(_mono(audio), SR, nperseg=8192)
    return f, p


def _slope_db_per_octave(audio: NDArray[np.floating], low_hz: float, high_hz: float) -> float:
    f, p = _welch(audio)
    band = (f >= low_hz) & (f <= high_hz)
    return float(np.polyfit(np.log2(f[band]), 10 * np.log10(p[band]), 1)[0])


def _centroid_hz(audio: NDArray[np.floating]) -> float:
    f, p = _welch(audio)
    return float((f * p).sum() / p.sum())


def _band(audio: NDArray[np.floating], low_hz: float, high_hz: float) -> Array:
    sos = signal.butter(4, (low_hz, high_hz), "bandpass", fs=SR, output="sos")
    return np.asarray(signal.sosfilt(sos, _mono(audio)))


def _levels_db(x: Array, frame_s: float) -> Array:
    n = round(frame_s * SR)
    k = len(x) // n
    return 10 * np.log10(np.mean(x[: k * n].reshape(k, n) ** 2, axis=1) + 1e-20)


def _onsets(levels_db: Array, rise_db: float) -> NDArray[np.int64]:
    """Frames where the level first rises ``rise_db`` above the median."""
    above = levels_db - np.median(levels_db) > rise_db
    return np.flatnonzero(above[1:] & ~above[:-1]) + 1


# --- noise -----------------------------------------------------------------------------------


def test_pink_noise_falls_3_db_per_octave() -> None:
    assert _slope_db_per_octave(_long("pink-noise"), 100.0, 8000.0) == pytest.approx(-3.0, abs=0.3)


def test_brown_noise_falls_6_db_per_octave() -> None:
    assert _slope_db_per_octave(_long("brown-noise"), 100.0, 5000.0) == pytest.approx(-6.0, abs=0.4)


@pytest.mark.parametrize(("name", "range_db"), [("pink-noise", 1.0), ("brown-noise", 2.5)])
def test_noise_is_steady(name: str, range_db: float) -> None:
    # 1 s levels move only by chance (brown noise's power sits in few low-frequency bins)
    levels = _levels_db(_mono(_long(name)), 1.0)
    assert levels.max() - levels.min() < range_db


# --- wind and forest ---------------------------------------------------------------------------


def test_wind_rises_and_falls_in_slow_gusts_that_get_brighter() -> None:
    audio = _long("wind")
    assert _centroid_hz(audio) < 900.0
    levels = _levels_db(_mono(audio), 0.1)
    power = 10 ** (levels / 10)
    spectrum = np.abs(np.fft.rfft(power - power.mean())) ** 2
    freqs = np.fft.rfftfreq(len(power), 0.1)
    assert spectrum[(freqs > 0) & (freqs <= 0.5)].sum() > 0.6 * spectrum[freqs > 0].sum()
    smooth = np.convolve(power, np.ones(10) / 10, mode="valid")
    assert 10 * np.log10(smooth.max() / smooth.min()) > 4.0
    # the howl rises with the gust: 1 s frames, louder means a higher centre of 150-1500 Hz
    n = SR
    frames = [_mono(audio)[i * n : (i + 1) * n] for i in range(len(audio) // n)]
    level = [10 * np.log10(np.mean(x**2)) for x in frames]
    centre = []
    for x in frames:
        f, p = signal.welch(x, SR, nperseg=4096)
        band = (f >= 150) & (f <= 1500)
        centre.append(float((f[band] * p[band]).sum() / p[band].sum()))
    assert np.corrcoef(level, centre)[0, 1] > 0.4


def test_forest_leaves_stir_with_the_gusts() -> None:
    audio = _long("forest")
    leaves = _levels_db(_band(audio, 2500.0, 9000.0), 1.0)
    wind = _levels_db(_band(audio, 60.0, 800.0), 1.0)
    assert np.corrcoef(leaves, wind)[0, 1] > 0.5
    assert leaves.max() - leaves.min() > 3.0


def _tonal_frames(audio: NDArray[np.floating], low_hz: float, high_hz: float) -> NDArray[np.bool_]:
    """20 ms frames whose spectrum in the band has a peak 15 dB over the band's median."""
    f, _, z = signal.stft(_mono(audio), SR, nperseg=1024, noverlap=142)
    band = (f >= low_hz) & (f <= high_hz)
    power = np.abs(z[band]) ** 2 + 1e-30
    return np.asarray(10 * np.log10(power.max(axis=0) / np.median(power, axis=0)) > 15.0)


def test_forest_has_sparse_soft_birdsong() -> None:
    tonal = _tonal_frames(_long("forest"), 2000.0, 7000.0)
    assert 0.01 < tonal.mean() < 0.25  # birds sing now and then, not all the time
    # phrases: runs of tonal frames, apart by more than half a second
    starts = np.flatnonzero(tonal[1:] & ~tonal[:-1])
    phrases = 1 + np.count_nonzero(np.diff(starts) > 0.5 / 0.02) if starts.size else 0
    assert 2 <= phrases <= 15  # about 0.22 a second over 30 s, some too far to stand out
    # and pure noise of the same spectrum has none
    noise = _long("pink-noise")
    assert _tonal_frames(noise, 2000.0, 7000.0).mean() < 0.005


# --- night, fire, stream --------------------------------------------------------------------------


def _modulation(envelope: Array, rate_hz: float) -> tuple[Array, Array]:
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean())) ** 2
    freqs = np.asarray(np.fft.rfftfreq(len(envelope), 1.0 / rate_hz), dtype=np.float64)
    return freqs, np.asarray(spectrum, dtype=np.float64)


def test_night_crickets_chirp_in_pulses_of_26_to_36_a_second() -> None:
    audio = _long("night")
    f, p = _welch(audio)
    band = (f >= 2000) & (f <= 8000)
    assert 3800 <= f[band][np.argmax(p[band])] <= 5200  # the carrier
    envelope = 10 ** (_levels_db(_band(audio, 3500.0, 5500.0), 0.002) / 10)
    freqs, spectrum = _modulation(envelope, 500.0)
    pulse = (freqs >= 20) & (freqs <= 45)
    # the pulse rate stands far out of the modulation spectrum around it
    peak = freqs[pulse][np.argmax(spectrum[pulse])]
    assert 25.0 <= peak <= 37.0
    around = (freqs >= 50) & (freqs <= 120)
    assert spectrum[pulse].max() > 10 * np.median(spectrum[around])
    chirp = (freqs >= 0.7) & (freqs <= 2.5)  # chirps 0.45-1 s apart
    slow = (freqs > 0.05) & (freqs < 0.7)
    assert spectrum[chirp].max() > 3 * spectrum[slow].max()


def test_night_is_mostly_quiet_between_chirps() -> None:
    levels = _levels_db(_band(_long("night"), 3500.0, 5500.0), 0.005)
    loud = levels > np.percentile(levels, 99) - 15.0
    assert 0.05 < loud.mean() < 0.6


def _crackles(audio: NDArray[np.floating]) -> NDArray[np.int64]:
    """Transient onsets: 2 ms level above 2 kHz rising 10 dB over its median."""
    return _onsets(_levels_db(_band(audio, 2000.0, 12000.0), 0.002), 10.0)


def test_fire_crackles_gently_in_clusters() -> None:
    audio = _long("fire")
    onsets = _crackles(audio)
    assert 0.5 <= len(onsets) / 30.0 <= 15.0
    gaps = np.diff(onsets) * 0.002
    assert gaps.std() / gaps.mean() > 1.0  # clustered: burstier than Poisson (1.0)
    assert _centroid_hz(audio) < 1500.0  # mostly the low flame
    # the flame flickers: its 50 ms level moves by a few dB
    flame = _levels_db(_band(audio, 50.0, 400.0), 0.05)
    assert 1.0 < np.std(flame - np.convolve(flame, np.ones(20) / 20, mode="same")) < 6.0


def test_stream_babbles_over_a_steady_rush() -> None:
    audio = _long("stream")
    assert 700.0 < _centroid_hz(audio) < 2500.0
    levels = _levels_db(_mono(audio), 1.0)
    assert levels.max() - levels.min() < 2.0  # steady
    # babble: the 5 ms level of the bubbles' band jumps about far more than noise does
    babble = _levels_db(_band(audio, 500.0, 3500.0), 0.005)
    noise = _levels_db(_band(_long("pink-noise"), 500.0, 3500.0), 0.005)
    assert np.std(babble) > 1.5 * np.std(noise)
    # bubbles are tones: many 20 ms frames have a clear peak
    assert _tonal_frames(audio, 500.0, 3500.0).mean() > 0.2


# --- intensities ---------------------------------------------------------------------------------


def test_intensity_is_a_parameter_and_a_name() -> None:
    assert [(bed.intensity, bed.info.name) for bed in rain.BEDS] == [
        ("light", "rain-light"), ("steady", "rain"), ("heavy", "rain-heavy")
    ]
    assert all(get_soundscape(bed.info.name) is bed for bed in rain.BEDS)
    assert get_soundscape("rain-light").info.themes == get_soundscape("rain").info.themes
    for bed in ("rain", "ocean", "stream", "forest", "wind", "night", "fire"):
        assert {bed, f"{bed}-light", f"{bed}-heavy"} <= set(soundscape_names())


@pytest.mark.slow
def test_heavier_intensities_are_busier() -> None:
    crackles = [len(_crackles(_render(n, 30.0))) for n in ("fire-light", "fire", "fire-heavy")]
    assert crackles[0] < crackles[1] < crackles[2]
    tonal = [np.mean([_tonal_frames(_render(n, 30.0, seed), 2000.0, 7000.0).mean()
                      for seed in (0, 1, 2)])
             for n in ("forest-light", "forest", "forest-heavy")]
    assert tonal[0] < tonal[1] < tonal[2]
    # light rain's drops stand out of a quieter hiss: a spikier high band
    spiky = [float(np.mean(_band(_render(n, 30.0), 2000.0, 9000.0) ** 4)
                   / np.mean(_band(_render(n, 30.0), 2000.0, 9000.0) ** 2) ** 2)
             for n in ("rain-light", "rain", "rain-heavy")]
    assert spiky[0] > spiky[1] > spiky[2]


# --- presets -------------------------------------------------------------------------------------


def _layer_sum(preset: PresetSoundscape, duration_s: float, seed: int) -> Array:
    total = np.zeros((round(duration_s * SR), 2))
    for layer, gain, layer_seed in zip(preset.layers, preset.gains(), preset.layer_seeds(seed)):
        total += gain * render_soundscape(layer.soundscape, duration_s, SR, layer_seed)
    return total


@pytest.mark.parametrize("name", ["forest-stream", "rain-on-fire"])
def test_builtin_preset_mixes_its_layers_at_their_gains(name: str) -> None:
    preset = get_soundscape(name)
    assert isinstance(preset, PresetSoundscape)
    mixed = render_soundscape(name, 3.0, SR, 4)
    np.testing.assert_allclose(mixed, _layer_sum(preset, 3.0, 4), atol=1e-6)
    # relative gains as declared; together as loud as one bed
    gains = preset.gains()
    declared = [layer.gain_db for layer in preset.layers]
    assert 20 * np.log10(gains[1] / gains[0]) == pytest.approx(declared[1] - declared[0])
    assert sum(g**2 for g in gains) == pytest.approx(1.0)
    # each layer has its own seed: two layers of one bed never play in step
    assert len(set(preset.layer_seeds(4))) == len(preset.layers)


def test_preset_themes_are_the_union_of_its_layers() -> None:
    info = get_soundscape("rain-on-fire").info
    assert set(info.themes) == {"fire", "fireplace", "water", "rain"}
    assert info.layers == ("fire", "rain-light")


def _write_presets(folder: Path, presets: dict[str, object], name: str = "presets.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump({"presets": presets}, sort_keys=False), encoding="utf-8")
    return path


def test_user_presets_work_wherever_a_name_does(tmp_path: Path) -> None:
    path = _write_presets(tmp_path, {
        "garden": {"description": "A garden in light rain.",
                   "layers": [{"soundscape": "rain-light"},
                              {"soundscape": "forest-light", "gain_db": -6}]},
        "deep": {"layers": [{"soundscape": "brown-noise", "gain_db": 3}]},
    })
    mine = SoundscapeCatalog.builtin(path)
    assert [info.name for info, own in mine.infos() if own] == ["deep", "garden"]
    assert {"garden", "deep"} <= set(mine.names())
    garden = mine.get("garden")
    assert isinstance(garden, PresetSoundscape)
    assert garden.info.description == "A garden in light rain."
    assert mine.get("deep").info.description == "Your preset: brown-noise."
    np.testing.assert_allclose(mine.render("garden", 2.0, SR, 1),
                               _layer_sum(garden, 2.0, 1), atol=1e-6)
    # another workspace (no presets file) has none of them
    with pytest.raises(UnknownSoundscapeError):
        get_soundscape("garden")


def test_default_presets_file_is_read_from_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "imr-audio"
    folder.mkdir(parents=True)
    _write_presets(folder, {"calm": {"layers": [{"soundscape": "pink-noise"}]}},
                   "soundscapes.yaml")
    catalog = Workspace.from_environment().soundscapes
    assert [info.name for info, own in catalog.infos() if own] == ["calm"]


def test_presets_file_errors_name_file_and_every_field(tmp_path: Path) -> None:
    path = _write_presets(tmp_path, {
        "rain": {"layers": [{"soundscape": "pink-noise"}]},
        "Bad Name": {"layers": [{"soundscape": "pink-noise"}]},
        "ok-name": {
            "colour": "blue",
            "layers": [
                {"soundscape": "thunder"},
                {"soundscape": "rain", "gain_db": 99},
                {"soundscape": "forest-stream"},
                {"soundscape": "missing.flac"},
                "wind",
            ],
        },
        "empty": {"layers": []},
    })
    with pytest.raises(SoundscapePresetError) as caught:
        load_presets(path, BUILTIN)
    lines = str(caught.value).splitlines()
    expected = [
        "presets.rain: the name of a built-in soundscape",
        "presets.Bad Name: a name is lowercase letters",
        "presets.ok-name.colour: unknown field",
        "presets.ok-name.layers[0].soundscape: unknown soundscape 'thunder'",
        "presets.ok-name.layers[1].gain_db: must be a number from -40 to 20",
        "presets.ok-name.layers[2].soundscape: 'forest-stream' is a preset",
        "presets.ok-name.layers[3].soundscape:",
        "presets.ok-name.layers[4]: must be a mapping",
        "presets.empty.layers: must be a list of at least one layer",
    ]
    assert len(lines) == len(expected), lines
    for line, part in zip(lines, expected):
        assert line.startswith(f"{path}: ") and part in line, (line, part)
    assert "missing.flac: file not found" in lines[6]


@pytest.mark.parametrize(
    ("text", "needle"),
    [("presets: [unclosed\n", "line 2, column 1: malformed YAML"),
     ("- a\n- b\n", "one mapping, 'presets'")],
)
def test_unreadable_presets_file_is_one_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SoundscapePresetError, match=needle):
        load_presets(path, BUILTIN)
    with pytest.raises(SoundscapePresetError, match="file not found"):
        load_presets(tmp_path / "none.yaml", BUILTIN)


# --- the avoid-list sees the themes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("soundscape", "avoid"),
    [("stream", "water"), ("night", "dark"), ("forest", "animals"), ("fire", "fire"),
     ("rain-on-fire", "fire"), ("forest-stream", "water"), ("wind-heavy", "wind")],
)
def test_avoid_list_matches_bed_and_preset_themes(
    tmp_path: Path,
    soundscape: str,
    avoid: str,
    write_client: Callable[..., Path], test_workspace: Workspace
) -> None:
    client = write_client(tmp_path, avoid=["heights", avoid])
    ws = test_workspace
    prepared = prepare(ws, "mini", ws.load_profile(client), ScriptChoices(soundscape=soundscape))
    assert any(f.rule == "avoid-list" and "soundscape" in f.message for f in prepared.findings)


@pytest.mark.parametrize("soundscape", ["pink-noise", "brown-noise"])
def test_noise_matches_no_avoid_list(
    tmp_path: Path,
    soundscape: str,
    write_client: Callable[..., Path], test_workspace: Workspace
) -> None:
    client = write_client(tmp_path, avoid=["heights", "water", "dark", "animals", "fire", "wind"])
    ws = test_workspace
    prepared = prepare(ws, "mini", ws.load_profile(client), ScriptChoices(soundscape=soundscape))
    assert not any("soundscape" in f.message for f in prepared.findings)


# --- commands ------------------------------------------------------------------------------------


def test_soundscapes_list_shows_every_name_with_themes_and_marks_presets(tmp_path: Path) -> None:
    path = _write_presets(tmp_path, {"calm": {"layers": [{"soundscape": "pink-noise"}]}})
    result = CliRunner().invoke(cli, ["soundscapes", "list", "--presets", str(path)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line[:1].strip()}
    assert set(rows) == set(soundscape_names()) | {"calm"}
    assert rows["forest-stream"].split()[1] == "preset"
    assert rows["calm"].split()[1:3] == ["your", "preset"]
    assert rows["rain"].split()[1] == "bed"
    assert "[themes: water, rain]" in rows["rain"]
    assert "[themes: none]" in rows["pink-noise"]
    assert "layers: fire + rain-light" in result.stdout
    assert "lint cannot check" in result.stderr


def test_soundscape_render_writes_audio_and_a_labelled_spectrogram(tmp_path: Path) -> None:
    import soundfile

    out, png = tmp_path / "bed.flac", tmp_path / "bed.png"
    result = CliRunner().invoke(cli, ["soundscape", "render", "night", "--duration", "2.5",
                                      "--seed", "3", "-o", str(out), "--spectrogram", str(png)])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and str(png) in result.output
    audio, rate = soundfile.read(str(out), dtype="float32")
    assert rate == SR and audio.shape == (round(2.5 * SR), 2)
    np.testing.assert_allclose(audio, render_soundscape("night", 2.5, SR, 3), atol=2e-6)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 900 and image.height > 420
        pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 20  # a picture, not a blank


def test_soundscape_render_rejects_unknown_names_and_endings(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["soundscape", "render", "thunder", "-o",
                                      str(tmp_path / "x.wav")])
    assert result.exit_code == 1 and len(result.output.splitlines()) == 1
    assert "thunder" in result.output and "rain" in result.output
    result = CliRunner().invoke(cli, ["soundscape", "render", "rain", "--duration", "1", "-o",
                                      str(tmp_path / "x.aiff")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "x.aiff" in result.output
    assert not (tmp_path / "x.aiff").exists()


def test_lint_takes_a_user_preset_and_its_themes(
    tmp_path: Path,
    write_client: Callable[..., Path], test_templates: Path
) -> None:
    presets = _write_presets(tmp_path, {"hearth": {"layers": [{"soundscape": "fire"}]}})
    client = write_client(tmp_path, avoid=["heights", "fire"])
    result = CliRunner().invoke(cli, ["lint", "mini", "--client", str(client), "--templates-dir",
                                      str(test_templates), "--soundscape", "hearth",
                                      "--presets", str(presets)])
    assert result.exit_code == 1
    assert "matches the chosen soundscape's themes" in result.output


def test_bad_presets_file_is_a_one_line_error_per_problem(tmp_path: Path) -> None:
    presets = _write_presets(tmp_path, {"x": {"layers": [{"soundscape": "nope"}]}})
    result = CliRunner().invoke(cli, ["soundscapes", "list", "--presets", str(presets)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {presets}: presets.x.layers[0].soundscape")
