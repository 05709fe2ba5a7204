"""Generators of tiny, valid ONNX and TFLite models for the test suite.

Every generated model returns exactly the constant arrays it was given, whatever the input,
yet still reads its input (``const + 0 * mean(input)``), so decoders, the model card and the
runtimes can be tested end to end through a real runtime in milliseconds.

TFLite models are written with the flatbuffer object API that ai-edge-litert ships
(``ai_edge_litert.schema_py_generated``), without TensorFlow.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Quant = tuple[float, int]

# --------------------------------------------------------------------------- shared helpers


def zip_append(path: str | Path, files: Mapping[str, bytes]) -> Path:
    """Append a zip archive holding ``files`` to ``path`` (TFLite "associated files" style)."""
    p = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with p.open("ab") as f:
        f.write(buf.getvalue())
    return p


def write_truncated(src: str | Path, dst: str | Path, fraction: float = 0.5) -> Path:
    """Write the first ``fraction`` of ``src`` to ``dst`` (a download cut short)."""
    data = Path(src).read_bytes()
    out = Path(dst)
    out.write_bytes(data[: max(1, int(len(data) * fraction))])
    return out


def write_garbage(dst: str | Path, size: int = 4096, seed: int = 0, prefix: bytes = b"") -> Path:
    """Write ``prefix`` + random bytes to ``dst`` (e.g. prefix=b"\\x18\\0\\0\\0TFL3")."""
    out = Path(dst)
    out.write_bytes(prefix + np.random.default_rng(seed).bytes(size))
    return out


# --------------------------------------------------------------------------- ONNX


def _onnx_elem_type(dtype: str | np.dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def make_onnx_model(
    path: str | Path,
    input_shape: Sequence[int] = (1, 3, 64, 64),
    input_dtype: str = "float32",
    outputs: Sequence[np.ndarray] | Mapping[str, np.ndarray] = (),
    metadata: Mapping[str, str] | None = None,
    input_name: str = "images",
    dynamic_dims: Mapping[int, str] | None = None,
    opset: int = 17,
    producer_name: str = "edgeui-tests",
) -> Path:
    """Write an ONNX model whose outputs are exactly ``outputs``, whatever the input.

    outputs: arrays (named "output0", "output1", ...) or a name -> array mapping; each keeps
    its dtype. Default: one float32 (1, 10) output. dynamic_dims: input axis -> symbolic name.
    metadata: written to ``metadata_props`` (what Ultralytics/YOLOv5 exports use).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    named: dict[str, np.ndarray] = (
        dict(outputs)
        if isinstance(outputs, Mapping)
        else {f"output{i}": np.asarray(a) for i, a in enumerate(outputs)}
    )
    if not named:
        named = {"output0": np.linspace(0, 1, 10, dtype=np.float32).reshape(1, 10)}

    dims: list[int | str] = list(input_shape)
    for axis, sym in (dynamic_dims or {}).items():
        dims[axis] = sym
    x = helper.make_tensor_value_info(input_name, _onnx_elem_type(input_dtype), dims)

    # z = 0 * mean(float(input)): a scalar that depends on the input but is always zero.
    nodes = [
        helper.make_node("Cast", [input_name], ["x_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["x_f"], ["x_mean"], keepdims=0),
        helper.make_node("Mul", ["x_mean", "zero"], ["z"]),
    ]
    inits = [numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    outs = []
    for i, (name, arr) in enumerate(named.items()):
        arr = np.asarray(arr)
        # Add in a type ORT's CPU kernels support, then cast back to the requested dtype.
        compute = np.float64 if arr.dtype == np.float64 else np.float32
        if arr.dtype.kind in "iub":
            compute = np.int64
        c, zc, added = f"const{i}", f"z{i}", f"sum{i}"
        inits.append(numpy_helper.from_array(arr.astype(compute), c))
        nodes.append(helper.make_node("Cast", ["z"], [zc], to=_onnx_elem_type(compute)))
        if np.dtype(compute) == arr.dtype:
            nodes.append(helper.make_node("Add", [c, zc], [name]))
        else:
            nodes.append(helper.make_node("Add", [c, zc], [added]))
            nodes.append(helper.make_node("Cast", [added], [name], to=_onnx_elem_type(arr.dtype)))
        outs.append(helper.make_tensor_value_info(name, _onnx_elem_type(arr.dtype), arr.shape))

    graph = helper.make_graph(nodes, "edgeui_test_graph", [x], outs, initializer=inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name=producer_name
    )
    model.ir_version = min(model.ir_version, 8)  # loadable by older onnxruntime builds too
    for k, v in (metadata or {}).items():
        prop = model.metadata_props.add()
        prop.key, prop.value = k, str(v)
    onnx.checker.check_model(model)
    p = Path(path)
    p.write_bytes(model.SerializeToString())
    return p


# --------------------------------------------------------------------------- TFLite


@dataclass(frozen=True)
class OutputSpec:
    """One TFLite output: constant ``values``, optional name and (scale, zero_point).

    With ``quant`` the output tensor is stored as ``dtype`` (uint8 or int8). Integer
    ``values`` are then the raw quantised numbers; float values are quantised first.
    """

    values: np.ndarray
    name: str | None = None
    quant: Quant | None = None
    dtype: str = "uint8"


def _tflite_type(dtype: str | np.dtype) -> int:
    from ai_edge_litert import schema_py_generated as s

    table = {
        "float32": s.TensorType.FLOAT32,
        "float16": s.TensorType.FLOAT16,
        "int32": s.TensorType.INT32,
        "int64": s.TensorType.INT64,
        "uint8": s.TensorType.UINT8,
        "int8": s.TensorType.INT8,
        "int16": s.TensorType.INT16,
        "bool": s.TensorType.BOOL,
    }
    return table[np.dtype(dtype).name]


def quantize(values: np.ndarray, quant: Quant, dtype: str) -> np.ndarray:
    """round(x / scale + zero_point), clipped to ``dtype``'s range."""
    info = np.iinfo(np.dtype(dtype))
    q = np.rint(np.asarray(values, np.float64) / quant[0] + quant[1])
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, quant: Quant) -> np.ndarray:
    """(q - zero_point) * scale as float32."""
    return ((np.asarray(q, np.float32) - quant[1]) * quant[0]).astype(np.float32)


class _GraphBuilder:
    """Collects tensors, buffers and operators of one TFLite subgraph."""

    def __init__(self) -> None:
        from ai_edge_litert import schema_py_generated as s

        self.s = s
        self.buffers = [s.BufferT()]  # buffer 0 is the empty sentinel, by convention
        self.tensors: list = []
        self.operators: list = []
        self.opcodes: list = []
        self._opcode_index: dict[tuple[int, str | None], int] = {}

    def tensor(
        self,
        name: str,
        shape: Sequence[int],
        dtype: str | np.dtype,
        data: np.ndarray | None = None,
        quant: Quant | None = None,
        signature: Sequence[int] | None = None,
    ) -> int:
        t = self.s.TensorT()
        t.name = name
        t.shape = np.asarray(shape, np.int32)
        if signature is not None:
            t.shapeSignature = np.asarray(signature, np.int32)
        t.type = _tflite_type(dtype)
        t.buffer = 0
        if data is not None:
            b = self.s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        if quant is not None:
            q = self.s.QuantizationParametersT()
            q.scale = [float(quant[0])]
            q.zeroPoint = [int(quant[1])]
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def const(self, name: str, arr: np.ndarray) -> int:
        arr = np.asarray(arr)
        return self.tensor(name, arr.shape, arr.dtype, data=arr)

    def op(
        self,
        code: int,
        inputs: Sequence[int],
        outputs: Sequence[int],
        options_type: int = 0,
        options: object = None,
        custom: str | None = None,
    ) -> None:
        key = (code, custom)
        if key not in self._opcode_index:
            oc = self.s.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)  # 127 = "see builtinCode"
            oc.customCode = custom
            oc.version = 1
            self.opcodes.append(oc)
            self._opcode_index[key] = len(self.opcodes) - 1
        o = self.s.OperatorT()
        o.opcodeIndex = self._opcode_index[key]
        o.inputs = np.asarray(inputs, np.int32)
        o.outputs = np.asarray(outputs, np.int32)
        o.builtinOptionsType = options_type
        o.builtinOptions = options
        self.operators.append(o)

    def binary(self, code: int, a: int, b: int, out: int) -> None:
        s = self.s
        if code == s.BuiltinOperator.ADD:
            opts, kind = s.AddOptionsT(), s.BuiltinOptions.AddOptions
        else:
            opts, kind = s.MulOptionsT(), s.BuiltinOptions.MulOptions
        opts.fusedActivationFunction = s.ActivationFunctionType.NONE
        self.op(code, [a, b], [out], kind, opts)

    def finish(
        self,
        path: Path,
        inputs: Sequence[int],
        outputs: Sequence[int],
        metadata_buffers: Mapping[str, bytes] | None,
    ) -> Path:
        import flatbuffers

        s = self.s
        sg = s.SubGraphT()
        sg.tensors, sg.operators, sg.name = self.tensors, self.operators, "main"
        sg.inputs = np.asarray(inputs, np.int32)
        sg.outputs = np.asarray(outputs, np.int32)
        model = s.ModelT()
        model.version = 3
        model.description = "edgeui test model"
        model.operatorCodes = self.opcodes
        model.subgraphs = [sg]
        model.metadata = []
        for name, data in (metadata_buffers or {}).items():
            b = s.BufferT()
            b.data = np.frombuffer(data, np.uint8)
            self.buffers.append(b)
            m = s.MetadataT()
            m.name, m.buffer = name, len(self.buffers) - 1
            model.metadata.append(m)
        model.buffers = self.buffers
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        path.write_bytes(bytes(builder.Output()))
        return path


def make_tflite_model(
    path: str | Path,
    input_shape: Sequence[int] = (1, 64, 64, 3),
    input_dtype: str = "float32",
    input_quant: Quant | None = None,
    outputs: Sequence[np.ndarray | OutputSpec] = (),
    output_quant: Sequence[Quant | None] | None = None,
    output_names: Sequence[str] | None = None,
    associated_files: Mapping[str, bytes] | None = None,
    metadata_buffers: Mapping[str, bytes] | None = None,
    input_name: str = "input",
    dynamic_dims: Sequence[int] = (),
) -> Path:
    """Write a TFLite model whose outputs are exactly ``outputs``, whatever the input.

    Graph: [DEQUANTIZE] -> MEAN (all axes) -> MUL 0 -> ADD const per output, then QUANTIZE
    for quantised outputs; integer outputs come from ARG_MAX over a one-hot constant (like
    DeepLab's int64 class map) or CAST when values are negative or span many classes.
    input_quant: (scale, zero_point) for a uint8/int8 input. output_quant: per output,
    (scale, zero_point) stored as uint8 (or use OutputSpec for int8). dynamic_dims: input axes
    reported as -1 in shape_signature. associated_files are zip-appended after the
    flatbuffer; metadata_buffers become model.metadata entries (e.g. "TFLITE_METADATA").
    """
    g = _GraphBuilder()
    s = g.s
    op = s.BuiltinOperator
    specs = [o if isinstance(o, OutputSpec) else OutputSpec(np.asarray(o)) for o in outputs]
    if not specs:
        specs = [OutputSpec(np.linspace(0, 1, 10, dtype=np.float32).reshape(1, 10))]
    if output_quant is not None:
        specs = [
            OutputSpec(sp.values, sp.name, q if q is not None else sp.quant, sp.dtype)
            for sp, q in zip(specs, output_quant, strict=True)
        ]
    if output_names is not None:
        specs = [
            OutputSpec(sp.values, n, sp.quant, sp.dtype)
            for sp, n in zip(specs, output_names, strict=True)
        ]

    sig = list(input_shape)
    for axis in dynamic_dims:
        sig[axis] = -1
    x = g.tensor(
        input_name, input_shape, input_dtype, quant=input_quant,
        signature=sig if dynamic_dims else None,
    )  # fmt: skip
    xf = x
    if input_quant is not None:
        xf = g.tensor("input_float", input_shape, "float32", signature=sig)
        g.op(op.DEQUANTIZE, [x], [xf])
    elif np.dtype(input_dtype) != np.float32:
        xf = g.tensor("input_float", input_shape, "float32", signature=sig)
        g.op(op.CAST, [x], [xf])

    axes = g.const("mean_axes", np.arange(len(input_shape), dtype=np.int32))
    mean = g.tensor("mean", (), "float32")
    ropts = s.ReducerOptionsT()
    ropts.keepDims = False
    g.op(op.MEAN, [xf, axes], [mean], s.BuiltinOptions.ReducerOptions, ropts)
    zero = g.tensor("zero", (), "float32")
    g.binary(op.MUL, mean, g.const("zero_const", np.array(0.0, np.float32)), zero)

    out_ids = []
    for i, sp in enumerate(specs):
        name = sp.name or f"output{i}"
        values = np.asarray(sp.values)
        if sp.quant is not None:
            raw = values if values.dtype.kind in "iu" else quantize(values, sp.quant, sp.dtype)
            fvals = dequantize(raw.astype(sp.dtype), sp.quant)
            f = g.tensor(f"{name}_float", fvals.shape, "float32")
            g.binary(op.ADD, g.const(f"{name}_const", fvals), zero, f)
            out = g.tensor(name, fvals.shape, sp.dtype, quant=sp.quant)
            g.op(op.QUANTIZE, [f], [out])
        elif values.dtype.kind in "iu":
            out = _int_output(g, name, values, zero)
        else:
            fvals = values.astype(np.float32)
            if values.dtype == np.float32:
                out = g.tensor(name, fvals.shape, "float32")
                g.binary(op.ADD, g.const(f"{name}_const", fvals), zero, out)
            else:  # float16 etc.: add in float32, then CAST
                f = g.tensor(f"{name}_float", fvals.shape, "float32")
                g.binary(op.ADD, g.const(f"{name}_const", fvals), zero, f)
                out = g.tensor(name, fvals.shape, values.dtype)
                g.op(op.CAST, [f], [out])
        out_ids.append(out)

    p = g.finish(Path(path), [x], out_ids, metadata_buffers)
    if associated_files:
        zip_append(p, associated_files)
    return p


def _int_output(g: _GraphBuilder, name: str, values: np.ndarray, zero: int) -> int:
    """An integer output equal to ``values``: ARG_MAX of a one-hot constant (+0), or CAST."""
    s = g.s
    n_classes = int(values.max(initial=0)) + 1
    if values.min(initial=0) >= 0 and n_classes <= 256 and values.dtype in (np.int64, np.int32):
        onehot = np.zeros((*values.shape, n_classes), np.float32)
        np.put_along_axis(onehot, values[..., None].astype(np.int64), 1.0, axis=-1)
        scores = g.tensor(f"{name}_scores", onehot.shape, "float32")
        g.binary(s.BuiltinOperator.ADD, g.const(f"{name}_onehot", onehot), zero, scores)
        axis = g.const(f"{name}_axis", np.array([values.ndim], np.int32))
        out = g.tensor(name, values.shape, values.dtype)
        opts = s.ArgMaxOptionsT()
        opts.outputType = _tflite_type(values.dtype)
        g.op(s.BuiltinOperator.ARG_MAX, [scores, axis], [out], s.BuiltinOptions.ArgMaxOptions,
             opts)  # fmt: skip
        return out
    f = g.tensor(f"{name}_float", values.shape, "float32")
    g.binary(s.BuiltinOperator.ADD, g.const(f"{name}_const", values.astype(np.float32)), zero, f)
    out = g.tensor(name, values.shape, values.dtype)
    g.op(s.BuiltinOperator.CAST, [f], [out])
    return out


def make_custom_op_tflite(
    path: str | Path, op_name: str = "fake-op", input_shape: Sequence[int] = (1, 4)
) -> Path:
    """Write a TFLite model with one custom operator ``op_name`` no runtime knows."""
    g = _GraphBuilder()
    x = g.tensor("input", input_shape, "float32")
    y = g.tensor("output", input_shape, "float32")
    g.op(g.s.BuiltinOperator.CUSTOM, [x], [y], custom=op_name)
    return g.finish(Path(path), [x], [y], None)


def make_custom_op_onnx(path: str | Path, op: str = "FooOp", domain: str = "com.example") -> Path:
    """Write an ONNX model using operator ``domain:op`` that onnxruntime does not have."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"], domain=domain)], "g", [x], [y])
    opsets = [helper.make_opsetid("", 17)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    p = Path(path)
    p.write_bytes(model.SerializeToString())
    return p


def make_crashing_tflite(path: str | Path) -> Path:
    """A TFLite model that makes LiteRT abort the process (not raise) when it is prepared.

    A uint8 ADD whose output scale is 1e-30: the kernel's multiplier check fails and calls
    abort(). The file is well-formed; only running it kills the process.
    """
    g = _GraphBuilder()
    x = g.tensor("input", (1, 8, 8, 3), "uint8", quant=(1.0, 0))
    c = g.tensor("one", (1, 8, 8, 3), "uint8", data=np.ones((1, 8, 8, 3), np.uint8),
                 quant=(1.0, 0))
    y = g.tensor("output", (1, 8, 8, 3), "uint8", quant=(1e-30, 0))
    g.binary(g.s.BuiltinOperator.ADD, x, c, y)
    return g.finish(Path(path), [x], [y], None)
