#!/usr/bin/env python3
"""Record the per-step gradients of a PyTorch training loop for `qfloat analyze`.

Each recorded step becomes one file, ``<out>/step_NNNNNN.safetensors``: one float32 tensor per
parameter, named by ``model.named_parameters()`` (``"0.weight"``, ``"encoder.layer.3.bias"``),
with ``__metadata__`` = ``{"step", "lr", "framework", "torch_version", ...}`` (all strings, as the
format requires). ``qfloat analyze grads/`` then reads the directory, ordered by step number.

Example (any ``torch.nn.Module`` and optimizer)::

    import torch
    from record_gradients import GradRecorder

    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with GradRecorder(model, "grads", optimizer=opt) as rec:
        for step in range(100):
            x, y = torch.randn(32, 8), torch.randn(32, 1)
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            rec.record(step, loss=loss.item())   # -> grads/step_000000.safetensors, ...
            opt.step()

When the gradient is captured (``mode``):

* ``"after_backward"`` (default): ``record()`` reads ``p.grad`` of every parameter. Call it after
  the last ``backward()`` of the step (after gradient accumulation, after DDP's all-reduce, before
  ``optimizer.step()``/``zero_grad()`` and before any gradient clipping you do not want to see).
* ``"hook"``: a ``register_post_accumulate_grad_hook`` (PyTorch >= 2.1) on each parameter copies
  the gradient the moment it is final for a backward pass, so it also works when the optimizer
  steps inside backward hooks and frees ``p.grad`` early. ``record()`` writes what the hooks
  captured since the previous ``record()``; with gradient accumulation the last backward's
  (accumulated) gradient wins.

Parameters with ``requires_grad=False`` or no gradient this step are left out (their count is in
``__metadata__["params_without_grad"]``). Gradients are copied to the CPU as float32 by default
(``dtype=None`` keeps the training dtype: BF16/F16/F32/F64). Files are written to a temporary name
and renamed, so a crash never leaves a half-written step. Under DDP, record on one rank (the
gradients are identical after the all-reduce); FSDP-sharded gradients are not gathered.

Command line::

    python3 scripts/record_gradients.py demo --out grads --steps 3    # a tiny model, 3 steps
    python3 scripts/record_gradients.py summary grads                 # files, tensors, norms

Needs torch; numpy speeds up the byte conversion but is optional.
"""

import argparse
import json
import os
import re
import struct
import sys

__all__ = ["GradRecorder", "save_safetensors", "load_safetensors", "step_path"]

_SAFETENSORS_DTYPES = {}  # torch dtype -> (safetensors name, element bytes); filled lazily


def _dtype_table():
    import torch

    if not _SAFETENSORS_DTYPES:
        _SAFETENSORS_DTYPES.update({
            torch.float32: ("F32", 4),
            torch.float64: ("F64", 8),
            torch.float16: ("F16", 2),
            torch.bfloat16: ("BF16", 2),
        })
    return _SAFETENSORS_DTYPES


def step_path(out_dir, step):
    """The file of `step`: <out_dir>/step_000123.safetensors (more digits past 999999)."""
    return os.path.join(out_dir, "step_%06d.safetensors" % step)


def _tensor_bytes(t):
    """Little-endian bytes of a contiguous CPU tensor."""
    import torch

    flat = t.reshape(-1).view(torch.uint8) if t.numel() else t.reshape(-1)
    try:
        return flat.numpy().tobytes()
    except (ImportError, RuntimeError, TypeError):  # no numpy: slow but exact
        return bytes(flat.tolist()) if t.numel() else b""


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} as a .safetensors file, atomically (temporary file + rename).

    Layout (safetensors README "Format"): u64 little-endian header length N, N bytes of JSON
    ({"__metadata__": {...}, name: {"dtype", "shape", "data_offsets": [begin, end]}}, padded with
    spaces to a multiple of 8), then the tensors' bytes in C order, in the order given.
    """
    table = _dtype_table()
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if name == "__metadata__":
            raise ValueError("'__metadata__' is a reserved name")
        if t.dtype not in table:
            raise TypeError("%s: dtype %s has no safetensors spelling here" % (name, t.dtype))
        t = t.detach().to("cpu").contiguous()
        data = _tensor_bytes(t)
        dtype, size = table[t.dtype]
        assert len(data) == t.numel() * size
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for b in blobs:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_safetensors(path):
    """Reads a file written by save_safetensors (F32/F64/F16/BF16): ({name: tensor}, metadata)."""
    import torch

    by_name = {v[0]: k for k, v in _dtype_table().items()}
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    buf = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        dtype = by_name[e["dtype"]]
        t = torch.frombuffer(bytearray(buf[b:end]), dtype=torch.uint8) if end > b else \
            torch.empty(0, dtype=torch.uint8)
        out[name] = t.view(dtype).reshape(e["shape"])
    return out, metadata


class GradRecorder:
    """Writes the gradients of `model`'s parameters, one safetensors file per recorded step.

    Args:
      model: the torch.nn.Module being trained.
      out_dir: directory for step_NNNNNN.safetensors (created if missing).
      optimizer: optional; its first param group's "lr" goes into the metadata.
      mode: "after_backward" (read p.grad in record()) or "hook" (post-accumulate-grad hooks).
      dtype: torch dtype the gradients are stored in (default float32); None keeps theirs.
      every: record only steps with step % every == 0 (record() returns None for the others).
      metadata: extra string metadata written into every file (e.g. {"model": "resnet18"}).
    """

    def __init__(self, model, out_dir="grads", optimizer=None, mode="after_backward",
                 dtype="float32", every=1, metadata=None):
        import torch

        if mode not in ("after_backward", "hook"):
            raise ValueError("mode must be 'after_backward' or 'hook', not %r" % (mode,))
        if every < 1:
            raise ValueError("every must be >= 1")
        self.model = model
        self.out_dir = out_dir
        self.optimizer = optimizer
        self.mode = mode
        self.dtype = torch.float32 if dtype == "float32" else dtype
        self.every = every
        self.metadata = dict(metadata or {})
        self.paths = []
        self._params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self._captured = {}
        self._handles = []
        self._open = False

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def open(self):
        os.makedirs(self.out_dir, exist_ok=True)
        if self.mode == "hook":
            for name, p in self._params:
                if not hasattr(p, "register_post_accumulate_grad_hook"):
                    raise RuntimeError("mode='hook' needs PyTorch >= 2.1 "
                                       "(Tensor.register_post_accumulate_grad_hook)")
                self._handles.append(p.register_post_accumulate_grad_hook(self._hook(name)))
        self._open = True

    def close(self):
        for h in self._handles:
            h.remove()
        self._handles = []
        self._captured = {}
        self._open = False

    def _hook(self, name):
        def hook(param):
            if param.grad is not None:
                self._captured[name] = self._copy(param.grad)
        return hook

    def _copy(self, grad):
        g = grad.detach()
        if g.is_sparse:
            g = g.to_dense()
        if self.dtype is not None:
            g = g.to(self.dtype)
        return g.to("cpu", copy=True).contiguous()

    def _lr(self):
        if self.optimizer is None:
            return None
        try:
            lr = self.optimizer.param_groups[0]["lr"]
            return lr.item() if hasattr(lr, "item") else lr
        except (AttributeError, IndexError, KeyError):
            return None

    def record(self, step, **extra):
        """Writes the gradients of step `step`; returns the file's path (None if skipped).

        `extra` key/values (loss=..., epoch=...) are added to the metadata as strings.
        """
        import torch

        if not self._open:
            self.open()
        step = int(step)
        if step < 0:
            raise ValueError("step must be >= 0")
        if self.mode == "hook":
            grads, self._captured = self._captured, {}
        else:
            grads = {n: self._copy(p.grad) for n, p in self._params if p.grad is not None}
        if step % self.every:
            return None
        ordered = {n: grads[n] for n, _ in self._params if n in grads}
        meta = {"step": str(step), "framework": "torch", "torch_version": torch.__version__,
                "recorder": "qfloat scripts/record_gradients.py", "mode": self.mode,
                "params_without_grad": str(len(self._params) - len(ordered))}
        lr = self._lr()
        if lr is not None:
            meta["lr"] = repr(float(lr))
        meta.update({str(k): str(v) for k, v in self.metadata.items()})
        meta.update({str(k): str(v) for k, v in extra.items()})
        path = step_path(self.out_dir, step)
        save_safetensors(path, ordered, meta)
        self.paths.append(path)
        return path


def _demo(args):
    import torch

    torch.manual_seed(args.seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    x = torch.randn(64, 8)
    y = x[:, :1] * 0.5 - x[:, 1:2] ** 2
    with GradRecorder(model, args.out, optimizer=opt, mode=args.mode) as rec:
        for step in range(args.steps):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            path = rec.record(step, loss=loss.item())
            opt.step()
            print("%s  loss %.6f" % (path, loss.item()))
    return 0


def _summary(args):
    import torch

    files = sorted((f for f in os.listdir(args.dir) if f.endswith(".safetensors")),
                   key=lambda f: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", f)])
    for f in files:
        tensors, meta = load_safetensors(os.path.join(args.dir, f))
        norm2 = sum(float((t.double() ** 2).sum()) for t in tensors.values())
        print("%s  step %s  %d tensors  %d elements  ||g||^2 %.6g" % (
            f, meta.get("step", "?"), len(tensors), sum(t.numel() for t in tensors.values()),
            norm2))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="train a tiny MLP and record its gradients")
    d.add_argument("--out", default="grads")
    d.add_argument("--steps", type=int, default=3)
    d.add_argument("--lr", type=float, default=0.05)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--mode", choices=("after_backward", "hook"), default="after_backward")
    s = sub.add_parser("summary", help="list recorded steps")
    s.add_argument("dir")
    args = ap.parse_args(argv)
    return _demo(args) if args.command == "demo" else _summary(args)


if __name__ == "__main__":
    sys.exit(main())
