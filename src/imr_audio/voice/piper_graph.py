"""Rewriting a Piper voice's graph: its noise made inputs, cut into stages and a decoder.

:mod:`imr_audio.voice.piper_worker` runs a voice from the files :func:`split_model` writes, once
per voice, in a short process of its own (:func:`split_main`) with the ``onnx`` package, whose
memory (about 270 MB) is given back when it ends. Why and how the worker runs them is told
there: the noise seeded per sentence, the decoder run in windows.

What is written to the voice's folder: ``stage-N.onnx``, the graph up to where a noise's shape
is known (a random node's input), in graph order, and then up to the latent frames (or the
graph's outputs); ``decoder.onnx`` when the decoder is where Piper's VITS export has it;
``voice.json`` (:data:`MANIFEST`), written last, with each stage's outputs, the noises to draw
after it (name, normal or uniform, its two parameters, dtype, shape) and the results.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from imr_audio.files import private_dir

__all__ = ["MANIFEST", "NOT_SEEDABLE", "NO_ONNX", "SPLIT_FORMAT", "split_main", "split_model"]

SPLIT_FORMAT = 2
"""Part of a split voice's folder name (1: an encoder and a decoder, the noise random)."""
MANIFEST = "voice.json"
"""The file that says how to run a split voice; its presence means the split is complete."""
NOT_SEEDABLE = 3
""":func:`split_main`'s exit status when the voice's noise cannot be seeded."""
NO_ONNX = 4
""":func:`split_main`'s exit status without the ``onnx`` package."""
_DECODER_FIRST_NODE = "/dec/conv_pre/Conv"  # where the decoder starts in Piper's VITS export
_RANDOM_OPS = {"RandomNormalLike": "normal", "RandomNormal": "normal",
               "RandomUniformLike": "uniform", "RandomUniform": "uniform"}
_OTHER_RANDOM_OPS = ("Bernoulli", "Multinomial")


def split_model(model_path: str, folder: str) -> bool:
    """Write ``model_path``'s stages to ``folder``, its noise made inputs; False if it can't be.

    Needs the ``onnx`` package. Each random node becomes an input of the same name; the graph
    is cut after the nodes that give a noise its shape, and before the decoder when it is
    where Piper's is and needs nothing but the latent frames. ``voice.json`` says how to run
    the stages; it is written last, each file to a temporary name renamed into place. False
    (nothing written) when the voice's randomness cannot be seeded: a random node that is not
    one of :data:`_RANDOM_OPS`, or subgraphs, which could hide one.
    """
    import onnx
    import onnx.shape_inference
    import onnx.utils

    model = onnx.load(model_path)
    nodes = model.graph.node
    if any(n.op_type in _OTHER_RANDOM_OPS or any(a.g.node or a.graphs for a in n.attribute)
           for n in nodes):
        return False
    with contextlib.suppress(Exception):  # a voice whose shapes cannot be inferred has its own
        model = onnx.shape_inference.infer_shapes(model)
    graph = model.graph
    noises = _noises_to_inputs(onnx, graph)
    if noises is None:
        return False
    plan = _plan(graph, noises)
    if plan is None:
        return False
    stages, first_noises, results, latent = plan
    target = Path(folder)
    private_dir(target)
    extractor = onnx.utils.Extractor(model)
    manifest: dict[str, Any] = {"format": SPLIT_FORMAT, "noises_first": first_noises,
                                "stages": [], "results": results, "decoder": None}
    for number, (inputs, outputs, count, stage_noises) in enumerate(stages):
        part = extractor.extract_model(inputs, outputs)
        if len(part.graph.node) != count:
            raise ValueError("a stage's nodes are not the ones planned")
        _save(part.SerializeToString(), target / f"stage-{number}.onnx")
        manifest["stages"].append({"file": f"stage-{number}.onnx", "outputs": outputs,
                                   "noises": stage_noises})
    if latent is not None:
        decoder = extractor.extract_model([latent], [o.name for o in graph.output])
        _save(decoder.SerializeToString(), target / "decoder.onnx")
        manifest["decoder"] = "decoder.onnx"
    _save(json.dumps(manifest, indent=1).encode("utf-8"), target / MANIFEST)
    return True


def _noises_to_inputs(onnx: Any, graph: Any) -> list[dict[str, Any]] | None:
    """Replace each random node of ``graph`` by an input; say how to draw each (None: can't)."""
    types = {v.name: v for v in (*graph.value_info, *graph.input)}
    noises: list[dict[str, Any]] = []
    for node in list(graph.node):
        kind = _RANDOM_OPS.get(node.op_type)
        if kind is None:
            continue
        if node.domain not in ("", "ai.onnx"):
            return None
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        like = node.op_type.endswith("Like")
        elem = attrs.get("dtype")
        if elem is None and like and node.input[0] in types:
            elem = types[node.input[0]].type.tensor_type.elem_type
        elif elem is None and not like:
            elem = onnx.TensorProto.FLOAT
        if elem not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE,
                        onnx.TensorProto.FLOAT16):
            return None
        low, high = ("mean", "scale") if kind == "normal" else ("low", "high")
        name = node.output[0]
        noises.append({
            "index": len(noises), "name": name, "kind": kind,
            "a": float(attrs.get(low, 0.0)), "b": float(attrs.get(high, 1.0)),
            "dtype": onnx.helper.tensor_dtype_to_np_dtype(elem).name,
            "shape_of": node.input[0] if like else None,
            "shape": None if like else [int(d) for d in attrs["shape"]],
        })
        info = types.get(name) or onnx.helper.make_tensor_value_info(name, elem, None)
        graph.node.remove(node)
        if name in {v.name for v in graph.value_info}:
            graph.value_info.remove(types[name])
        graph.input.append(info)
    return noises


_Stage = tuple[list[str], list[str], int, list[dict[str, Any]]]  # inputs, outputs, nodes, noises


def _plan(graph: Any, noises: list[dict[str, Any]]) -> tuple[
        list[_Stage], list[dict[str, Any]], list[str], str | None] | None:
    """How to run ``graph``; None when a stage would need a noise not drawn yet.

    Returns the stages (each ending where a noise's shape is known, in graph order), the
    noises drawn before any stage, the results and the decoder's input (or None).
    """
    nodes = graph.node
    producer = {out: i for i, node in enumerate(nodes) for out in node.output if out}
    initializers = {t.name for t in graph.initializer}

    def ancestors(names: list[str], stop: str = "") -> set[int]:
        found: set[int] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            index = producer.get(name)
            if index is not None and name != stop and index not in found:
                found.add(index)
                stack.extend(x for x in nodes[index].input if x)
        return found

    def needs(group: set[int]) -> set[str]:
        made = {out for i in group for out in nodes[i].output}
        return {x for i in group for x in nodes[i].input
                if x and x not in made and x not in initializers}

    outputs = [o.name for o in graph.output]
    first = next((n for n in nodes if n.name == _DECODER_FIRST_NODE), None)
    latent = None
    if first is not None and len(outputs) == 1 and needs(ancestors(outputs, first.input[0])) \
            == {first.input[0]}:
        latent = first.input[0]
    results = [latent] if latent is not None else outputs
    groups: list[tuple[set[int], list[dict[str, Any]]]] = []
    first_noises: list[dict[str, Any]] = []
    done: set[int] = set()
    for spec in noises:
        group = set() if spec["shape_of"] is None else ancestors([spec["shape_of"]]) - done
        if group:
            groups.append((group, []))
            done |= group
        (groups[-1][1] if groups else first_noises).append(spec)
    groups.append((ancestors(results) - done, []))
    shapes = {spec["shape_of"] for spec in noises} | set(results)
    available = {i.name for i in graph.input if i.name not in {s["name"] for s in noises}}
    available |= {spec["name"] for spec in first_noises}
    stages: list[_Stage] = []
    for number, (group, stage_noises) in enumerate(groups):
        inputs = sorted(needs(group))
        if not group or not set(inputs) <= available:
            return None
        later = {x for other, _ in groups[number + 1 :] for i in other for x in nodes[i].input}
        made = [out for i in sorted(group) for out in nodes[i].output if out]
        stage_outputs = [out for out in made if out in later or out in shapes]
        available |= set(stage_outputs) | {spec["name"] for spec in stage_noises}
        stages.append((inputs, stage_outputs, len(group), stage_noises))
    return stages, first_noises, results, latent


def _save(data: bytes, path: Path) -> None:
    fd, name = tempfile.mkstemp(prefix=".imr-", suffix=".part", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        Path(name).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(name).unlink()
        raise


def split_main() -> None:  # pragma: no cover - runs in a child process
    """Entry of the process that splits a voice: ``argv`` is the model, the folder, sys.path.

    Exits 0 when split, :data:`NOT_SEEDABLE` when the voice's noise cannot be seeded,
    :data:`NO_ONNX` without the ``onnx`` package, 1 when the split failed otherwise.
    """
    sys.path[:] = json.loads(sys.argv[3])
    try:
        import onnx  # noqa: F401
    except ImportError:
        sys.exit(NO_ONNX)
    try:
        split = split_model(sys.argv[1], sys.argv[2])
    except Exception:  # any other failure: the caller tries a temporary folder, then gives up
        sys.exit(1)
    sys.exit(0 if split else NOT_SEEDABLE)
