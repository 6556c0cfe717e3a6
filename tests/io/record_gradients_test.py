#!/usr/bin/env python3
"""ctest io_record_gradients: scripts/record_gradients.py on a tiny model, read back by our C++
reader (qfloat_io_dump), compared bit for bit with the gradients PyTorch held.

Exit 0 pass, 1 fail, 77 skipped (torch is not importable).
"""

import argparse
import importlib.util
import json
import os
import struct
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True, help="path to qfloat_io_dump")
    ap.add_argument("--script", required=True, help="path to scripts/record_gradients.py")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("SKIP: torch is not installed (pip install torch)")
        return 77

    spec = importlib.util.spec_from_file_location("record_gradients", args.script)
    rg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rg)

    failures = []
    checks = 0

    def check(cond, what):
        nonlocal checks
        checks += 1
        if not cond:
            failures.append(what)
            print("FAIL:", what)

    def dump(paths):
        out = subprocess.run([args.dump] + paths, check=False, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("qfloat_io_dump failed: " + out.stderr)
        return json.loads(out.stdout)

    def f64_bits(t):
        return ["%016x" % struct.unpack("<Q", struct.pack("<d", float(v)))[0]
                for v in t.double().reshape(-1).tolist()]

    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(1)
        model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        frozen = torch.nn.Linear(2, 2)  # requires_grad=False: left out
        for p in frozen.parameters():
            p.requires_grad_(False)
        net = torch.nn.Sequential(model, frozen)
        opt = torch.optim.SGD(net.parameters(), lr=0.125)
        x = torch.randn(5, 3)
        y = torch.randn(5, 2)
        d1 = os.path.join(tmp, "grads")
        d2 = os.path.join(tmp, "hooked")
        expected = []
        with rg.GradRecorder(net, d1, optimizer=opt) as rec, \
                rg.GradRecorder(net, d2, optimizer=opt, mode="hook") as hooked:
            for step in range(3):
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(net(x), y)
                loss.backward()
                expected.append({n: p.grad.detach().float().clone()
                                 for n, p in net.named_parameters() if p.grad is not None})
                p1 = rec.record(step, loss=loss.item())
                p2 = hooked.record(step)
                check(p1 == os.path.join(d1, "step_%06d.safetensors" % step), "path " + p1)
                check(os.path.basename(p2) == os.path.basename(p1), "hook path " + p2)
                opt.step()
        files = sorted(os.listdir(d1))
        check(files == ["step_000000.safetensors", "step_000001.safetensors",
                        "step_000002.safetensors"], "files %s (no temporaries left)" % files)
        doc = dump([os.path.join(d1, f) for f in files] + [os.path.join(d2, f) for f in files])
        names = [n for n, p in net.named_parameters() if p.requires_grad]
        check(names == ["0.0.weight", "0.0.bias", "0.2.weight", "0.2.bias"], str(names))
        for d in (d1, d2):
            for step, f in enumerate(files):
                got = doc[os.path.join(d, f)]
                meta = got["metadata"]
                check(got["kind"] == "safetensors", "kind")
                check(meta.get("step") == str(step), "%s step %s" % (f, meta.get("step")))
                check(meta.get("framework") == "torch", "framework")
                check(meta.get("lr") == "0.125", "lr %s" % meta.get("lr"))
                check(meta.get("params_without_grad") == "0", "params_without_grad")
                if d == d1:
                    check(float(meta.get("loss", "nan")) > 0, "loss")
                check([t["name"] for t in got["tensors"]] == names, "names")
                for t in got["tensors"]:
                    want = expected[step][t["name"]]
                    check(t["dtype"] == "F32", "dtype " + t["dtype"])
                    check(t["shape"] == list(want.shape), "shape %s" % t["shape"])
                    check(t["f64_bits"] == f64_bits(want), "values of %s step %d" % (t["name"], step))

        # every=2 skips odd steps; dtype=None keeps bf16 gradients as BF16.
        d3 = os.path.join(tmp, "bf16")
        m16 = torch.nn.Linear(4, 3).to(torch.bfloat16)
        with rg.GradRecorder(m16, d3, dtype=None, every=2, metadata={"run": "bf16"}) as rec:
            for step in range(3):
                m16.zero_grad()
                m16(torch.randn(2, 4, dtype=torch.bfloat16)).float().pow(2).sum().backward()
                grad = m16.weight.grad.clone()
                path = rec.record(step)
                check((path is None) == (step % 2 == 1), "every=2 at step %d" % step)
        files3 = sorted(os.listdir(d3))
        check(files3 == ["step_000000.safetensors", "step_000002.safetensors"], str(files3))
        doc3 = dump([os.path.join(d3, "step_000002.safetensors")])
        got = doc3[os.path.join(d3, "step_000002.safetensors")]
        check(got["metadata"].get("run") == "bf16", "extra metadata")
        w = [t for t in got["tensors"] if t["name"] == "weight"][0]
        check(w["dtype"] == "BF16", "bf16 dtype " + w["dtype"])
        check(w["f64_bits"] == f64_bits(grad), "bf16 values")
        # The Python reader agrees too (and safetensors' own reader, when installed).
        tensors, meta = rg.load_safetensors(os.path.join(d1, files[1]))
        check(all(torch.equal(tensors[n], expected[1][n]) for n in names), "load_safetensors")
        try:
            from safetensors.torch import load_file
            st = load_file(os.path.join(d1, files[1]))
            check(all(torch.equal(st[n], expected[1][n]) for n in names), "safetensors.load_file")
        except ImportError:
            pass

    print("%d passed, %d failed" % (checks - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
