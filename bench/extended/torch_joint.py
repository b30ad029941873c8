#!/usr/bin/env python3
"""PyTorch definition of ISACKit's extended-target JointNetwork (Sources/ExtendedTarget/Network.swift).

Module attribute names equal the Swift property names, so the archive written by
`isac extended export --format torch` loads with `load_state_dict(strict=True)`.

Modes
  --state S.npz --model-json M/model.json --reference R.npz
        load the exported weights, run the reference input (written by `isac extended export --data
        --reference`) and report max |Δ| of the eval-mode and train-mode outputs, the loss, and the
        per-parameter relative error of the joint-loss gradient vs PyTorch autograd (float32 and float64).
  --bench [--threads 1,2] [--batch 32 --antennas 64 --subcarriers 16 --steps 5]
        time one training step (forward + backward of the physics joint loss + AdamW with no-decay
        groups) of the paper-size dual-branch + CTA network, as `isac bench learning --model joint`.
Not a CI dependency (needs `pip install torch`).
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class MHA(nn.Module):
    """Separate Q/K/V/output projections; softmax((q/√dh) kᵀ) v per head (Layers.swift MultiHeadAttention)."""

    def __init__(self, d, heads):
        super().__init__()
        self.query, self.key, self.value, self.output = (nn.Linear(d, d) for _ in range(4))
        self.heads = heads

    def split(self, x):
        n, l, d = x.shape
        return x.reshape(n, l, self.heads, d // self.heads).permute(0, 2, 1, 3)

    def forward(self, q, c):
        n, l, d = q.shape
        qh, kh, vh = self.split(self.query(q)), self.split(self.key(c)), self.split(self.value(c))
        dh = qh.shape[-1]
        o = torch.softmax((qh * (1.0 / math.sqrt(dh))) @ kh.transpose(-1, -2), dim=-1) @ vh
        return self.output(o.permute(0, 2, 1, 3).reshape(n, l, d))


def gelu(x):
    return F.gelu(x, approximate="tanh")


class Block(nn.Module):
    """Pre-norm transformer encoder block."""

    def __init__(self, d, heads, ffn):
        super().__init__()
        self.norm1, self.attention, self.norm2 = nn.LayerNorm(d, eps=1e-5), MHA(d, heads), nn.LayerNorm(d, eps=1e-5)
        self.ffn1, self.ffn2 = nn.Linear(d, ffn), nn.Linear(ffn, d)

    def forward(self, x):
        h = x + self.attention(self.norm1(x), self.norm1(x))
        return h + self.ffn2(gelu(self.ffn1(self.norm2(h))))


class Branch(nn.Module):
    def __init__(self, ch, grid, d, heads, tones, cin):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, ch[0], 3, padding=1), nn.BatchNorm2d(ch[0], eps=1e-5, momentum=0.1)
        self.conv2, self.bn2 = nn.Conv2d(ch[0], ch[1], 3, padding=1), nn.BatchNorm2d(ch[1], eps=1e-5, momentum=0.1)
        self.conv3, self.bn3 = nn.Conv2d(ch[1], ch[2], 3, padding=1), nn.BatchNorm2d(ch[2], eps=1e-5, momentum=0.1)
        self.project = nn.Linear(ch[2], d)
        self.toneEmbedding = nn.Parameter(torch.zeros(tones, d))
        self.positionEmbedding = nn.Parameter(torch.zeros(grid * grid, d))
        self.block1, self.block2 = Block(d, heads, 2 * d), Block(d, heads, 2 * d)
        self.grid = grid

    def stage1(self, x):
        return F.relu(self.bn1(self.conv1(x)))

    def stage2(self, x):
        return F.relu(self.bn2(self.conv2(F.max_pool2d(x, 2))))

    def stage3(self, x):
        return F.relu(self.bn3(self.conv3(F.max_pool2d(x, 2))))

    def tokens(self, f, n, tones):
        m, c, h, w = f.shape
        p, ks = self.grid, len(tones)
        pooled = f.reshape(m, c, p, h // p, p, w // p).mean(dim=(3, 5))
        t = pooled.reshape(n, ks, c, p * p).permute(0, 1, 3, 2).reshape(n * ks * p * p, c)
        d = self.toneEmbedding.shape[1]
        proj = self.project(t).reshape(n, ks, p * p, d)
        e = self.toneEmbedding[tones].reshape(1, ks, 1, d)
        return (proj + e + self.positionEmbedding.reshape(1, 1, p * p, d)).reshape(n, ks * p * p, d)

    def forward(self, x, n, tones):
        return self.block2(self.block1(self.tokens(self.stage3(self.stage2(self.stage1(x))), n, tones)))


class CTA(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.clsFromLoc, self.locFromCls = MHA(d, 1), MHA(d, 1)
        self.normCls, self.normLoc = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)
        self.ffnCls1, self.ffnCls2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)
        self.ffnLoc1, self.ffnLoc2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)
        self.mix = nn.Parameter(torch.zeros(2))

    def forward(self, cls, loc):
        c = cls + self.mix[0:1] * self.clsFromLoc(cls, loc)
        l = loc + self.mix[1:2] * self.locFromCls(loc, cls)
        c2 = c + self.ffnCls2(gelu(self.ffnCls1(self.normCls(c))))
        l2 = l + self.ffnLoc2(gelu(self.ffnLoc1(self.normLoc(l))))
        return c2, l2


class JointNetwork(nn.Module):
    STAGES = 5

    def __init__(self, cfg):
        super().__init__()
        s = cfg["size"]
        cin = 3 if cfg["input"]["normalization"] == "per-sample" else 2
        self.arch, self.use_cta, self.classes = cfg["architecture"], cfg["crossTaskAttention"], cfg["classes"]
        args = (s["channels"], s["tokenGrid"], s["modelSize"], s["heads"], cfg["toneCount"], cin)
        self.semantic, self.geometric = Branch(*args), Branch(*args)
        self.cta = CTA(s["modelSize"])
        self.stitch = nn.Parameter(torch.zeros(4 * self.STAGES))
        d, e = s["modelSize"], s["embedSize"]
        self.poolCls, self.poolLoc = nn.Linear(d, e), nn.Linear(d, e)
        self.headCls, self.headLoc = nn.Linear(e, cfg["classes"]), nn.Linear(e, 7)

    def mix(self, a, b, k):
        w = self.stitch[4 * k:4 * k + 4]
        return w[0:1] * a + w[1:2] * b, w[2:3] * a + w[3:4] * b

    def forward(self, x, n, tones):
        if self.arch in ("sharedMTL", "singleClassification", "singleLocalization"):
            fc = fl = self.semantic(x, n, tones)
        elif self.arch == "crossStitch":
            S, G = self.semantic, self.geometric
            a, b = self.mix(S.stage1(x), G.stage1(x), 0)
            a, b = self.mix(S.stage2(a), G.stage2(b), 1)
            a, b = self.mix(S.stage3(a), G.stage3(b), 2)
            a, b = self.mix(S.block1(S.tokens(a, n, tones)), G.block1(G.tokens(b, n, tones)), 3)
            fc, fl = self.mix(S.block2(a), G.block2(b), 4)
        else:
            c0, l0 = self.semantic(x, n, tones), self.geometric(x, n, tones)
            fc, fl = self.cta(c0, l0) if self.use_cta else (c0, l0)
        return torch.cat([self.headCls(self.poolCls(fc.mean(1))), self.headLoc(self.poolLoc(fl.mean(1)))], dim=1)


def joint_loss(out, r, C, cls=True, loc=True):
    """Trainer's jointLoss (Sources/ExtendedTarget/Training.swift), eqs. (39)-(48) with bounded log-variances."""
    one = lambda v: float(np.asarray(v).reshape(-1)[0])
    obj, w, b = int(one(r["objective"])), r["weights"], one(r["logvar_bound"])
    mid, half = one(r["range_mid_m"]), one(r["range_half_m"])
    loss = out.new_zeros(())
    if cls:
        loss = loss + F.cross_entropy(out[:, :C], r["classes"])
    if loc:
        z, sr, aS, aC, sth, u = out[:, C:C + 1], out[:, C + 1:C + 2], out[:, C + 2:C + 3], out[:, C + 3:C + 4], out[:, C + 4:C + 5], out[:, C + 5:C + 7]
        norm = torch.sqrt(aS * aS + aC * aC + 1e-8)
        s, c = aS / norm, aC / norm
        sinT, cosT = r["sin_theta"], r["cos_theta"]
        sinD, cosD = s * cosT - c * sinT, c * cosT + s * sinT
        if obj == 0:
            loss = loss + w[0] * ((z - r["range_norm"]) ** 2).mean() + w[1] * ((s - sinT) ** 2 + (c - cosT) ** 2).mean()
        else:
            dth = torch.atan2(sinD, cosD)
            nll = lambda e, lv: (0.5 * (torch.exp(-lv) * e * e + lv)).mean()
            loss = loss + w[0] * nll(z - r["range_norm"], b * torch.tanh(sr / b)) + w[1] * nll(dth / math.pi, b * torch.tanh(sth / b))
            if obj == 2:
                rh, rm = z * half + mid, r["range_m"]
                if w[2] > 0:
                    loss = loss + w[2] * torch.sqrt(rh * rh + rm * rm - 2 * rh * rm * cosD + 1e-6).mean()
                if w[3] > 0:
                    loss = loss + w[3] * (u - r["peak"]).abs().sum(1).mean()
                if w[4] > 0:
                    loss = loss + w[4] * ((rh - rm).abs() - (rm * dth).abs()).abs().mean()
    return loss


def load_state(net, path):
    sd = {k: torch.from_numpy(np.array(v)) for k, v in np.load(path).items()}
    net.load_state_dict(sd, strict=True)


def compare(a):
    cfg = json.load(open(a.model_json))
    ref = dict(np.load(a.reference))
    tones = [int(t) for t in ref["tones"]]
    x = torch.from_numpy(ref["input"])
    n = ref["output_eval"].shape[0]
    out = {"model": json.load(open(a.model_json))["method"], "samples": n, "tones": len(tones)}
    arch = cfg["config"]["architecture"]
    C = cfg["config"]["classes"]
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        net = JointNetwork(cfg["config"])
        load_state(net, a.state)
        net = net.to(dtype)
        net.eval()
        with torch.no_grad():
            ye = net(x.to(dtype), n, tones).double().numpy()
        out[f"eval_max_abs_diff_{tag}"] = float(np.abs(ye - ref["output_eval"]).max())
        net.train()
        y = net(x.to(dtype), n, tones)
        out[f"train_max_abs_diff_{tag}"] = float(np.abs(y.detach().double().numpy() - ref["output_train"]).max())
        r = {k: torch.from_numpy(v).to(dtype) if v.dtype == np.float32 else v for k, v in ref.items()}
        r["classes"] = torch.from_numpy(ref["classes"])
        r["weights"] = [float(v) for v in ref["weights"]]
        loss = joint_loss(y, r, C, cls=arch != "singleLocalization", loc=arch != "singleClassification")
        net.zero_grad()
        loss.backward()
        out[f"loss_{tag}"] = float(loss.detach())
        worst, worst_name, num, den = 0.0, "", 0.0, 0.0
        grads = {k: (p.grad.double().numpy() if p.grad is not None else np.zeros(p.shape)) for k, p in net.named_parameters()}
        total = math.sqrt(sum(float(np.sum(g ** 2)) for g in grads.values()))
        for k, g in grads.items():
            s = ref["grad/" + k].astype(np.float64)
            e = np.linalg.norm(g - s) / max(np.linalg.norm(g), 1e-12)
            num += float(np.sum((g - s) ** 2)); den += float(np.sum(g ** 2))
            # Parameters whose gradient is analytically 0 (attention key biases: softmax is invariant to
            # a per-query shift) carry only rounding noise; they are excluded from the per-parameter maximum.
            if np.linalg.norm(g) > 1e-6 * total and e > worst:
                worst, worst_name = e, k
        out[f"grad_rel_err_global_{tag}"] = math.sqrt(num / max(den, 1e-300))
        out[f"grad_rel_err_worst_param_{tag}"] = worst
        out[f"grad_worst_param_{tag}"] = worst_name
    out["loss_swift"] = float(ref["loss"][0])
    out["eval_max_abs_output"] = float(np.abs(ref["output_eval"]).max())
    print(json.dumps(out, sort_keys=True) if a.json else "\n".join(f"{k}: {v}" for k, v in sorted(out.items())))


def bench(a):
    cfg = {"architecture": "dualBranch", "crossTaskAttention": True, "classes": 2, "toneCount": a.subcarriers,
           "size": {"channels": [16, 32, 64], "tokenGrid": 4, "modelSize": 64, "heads": 4, "embedSize": 64},
           "input": {"normalization": "global"}}
    rows = []
    for th in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(th)
        torch.manual_seed(42)
        net = JointNetwork(cfg)
        decay = [p for k, p in net.named_parameters() if k.endswith(".weight") and p.dim() >= 2]
        nodecay = [p for k, p in net.named_parameters() if not (k.endswith(".weight") and p.dim() >= 2)]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": nodecay, "weight_decay": 0.0}], lr=2e-4)
        B, K, N = a.batch, a.subcarriers, a.antennas
        g = torch.Generator().manual_seed(1)
        x = torch.randn(B * K, 2, N, N, generator=g)
        rn = torch.rand(B, 1, generator=g) * 2 - 1
        th_ = (torch.rand(B, 1, generator=g) - 0.5) * math.pi / 2
        r = {"objective": 2, "weights": [1.0, 1.8, 0.2, 0.05, 0.1], "logvar_bound": 8.0, "range_mid_m": 27.5, "range_half_m": 22.5,
             "classes": torch.arange(B) % 2, "range_norm": rn, "range_m": 27.5 + 22.5 * rn, "sin_theta": torch.sin(th_),
             "cos_theta": torch.cos(th_), "peak": torch.rand(B, 2, generator=g)}
        tones = list(range(K))
        times, cpu = [], []
        for i in range(a.warmup + a.steps):
            c0 = time.process_time()
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = joint_loss(net(x, B, tones), r, 2)
            loss.backward()
            opt.step()
            dt = (time.perf_counter() - t0) * 1000
            if i >= a.warmup:
                times.append(dt)
                cpu.append((time.process_time() - c0) * 1000)
        rows.append({"framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(),
                     "model": "JointNetwork (dual branch + CTA, paper size, physics loss)",
                     "input_shape": [B * K, 2, N, N], "batch": B, "parameters": sum(p.numel() for p in net.parameters()),
                     "step_ms_median": float(np.median(times)), "step_ms_mean": float(np.mean(times)), "steps": a.steps,
                     "cpu_ms_per_step_median": float(np.median(cpu))})
    print(json.dumps(rows if len(rows) > 1 else rows[0], sort_keys=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state"); ap.add_argument("--model-json"); ap.add_argument("--reference")
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--threads", default="1,2"); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--antennas", type=int, default=64); ap.add_argument("--subcarriers", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5); ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.bench:
        bench(a)
    elif a.state and a.model_json and a.reference:
        compare(a)
    else:
        ap.error("give --bench, or --state, --model-json and --reference")


if __name__ == "__main__":
    sys.exit(main())
