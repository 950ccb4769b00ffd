"""Procedural nature soundscapes ("beds") that play quietly under the guided-imagery voice.

Each bed is synthesised on the fly from seeded noise, so a track of any length has no loop
point, and generating block by block never holds the whole bed in memory. The same name, seed
and sample rate always give the same samples, and the first N frames are the same whatever
duration is asked for. Every bed is scaled by a fixed design constant to about -30 LUFS.

>>> from imr_audio.soundscapes.catalog import SoundscapeCatalog
>>> SoundscapeCatalog.builtin().render("rain", 1.5, 48000, seed=7).shape
(72000, 2)

The beds: ``rain``, ``ocean``, ``stream``, ``forest``, ``wind``, ``night`` and ``fire``, each
also at ``-light`` and ``-heavy`` intensity (``rain-light``, ``rain-heavy``...), and
``pink-noise`` and ``brown-noise``. Presets layer beds at chosen gains (``forest-stream``,
``rain-on-fire``, and the user's own from a YAML file). A name that is the path of an audio
file gives the user's recording, looped without a seam (:mod:`.audio_file`). A workspace's
soundscape catalog (:mod:`.catalog`) finds them all by name.

To add a bed, write a function making its :class:`~.beds.BedParts` from a design in a module of
this package, list its :class:`~.beds.DesignedBed` instances in the module's ``BEDS`` (see
:func:`~.beds.intensity_beds`) and the module in :mod:`.catalog`.

The package imports nothing itself: import from its modules (the beds need numpy and scipy,
which a command that does not render should not have to load).
"""
