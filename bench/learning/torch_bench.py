#!/usr/bin/env python3
"""PyTorch CPU reference for `LearningBenchmark.run` (Sources/Learning/Benchmark.swift).

Same network (ConvAttentionNet), batch, input size, loss and optimizer (AdamW, lr 2e-4, wd 0.01):
    input [B, 2K, N_r, N_t] -> 3 x (conv3x3 pad1 -> BN -> ReLU), maxpool 2 after blocks 1 and 2
    -> tokens [B, L, D] + learned positions -> 2 pre-norm transformer blocks (4 heads, GELU(tanh) FFN 2D)
    -> mean over tokens -> Linear(D, 2) -> cross-entropy.
Timing: median wall time of `steps` training steps (forward + backward + optimizer step) after
`warmup` steps, torch.set_num_threads(threads) (2 on the benchmark machine).

Usage (inside the git-ignored venv):  .venv/bin/python bench/learning/torch_bench.py --json
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.norm1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(d)
        self.ffn1 = nn.Linear(d, ffn)
        self.ffn2 = nn.Linear(ffn, d)

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.ffn2(F.gelu(self.ffn1(self.norm2(x)), approximate="tanh"))


class ConvAttentionNet(nn.Module):
    def __init__(self, cin, n, c1=32, c2=64, d=64, heads=4, classes=2):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, c1, 3, padding=1), nn.BatchNorm2d(c1)
        self.conv2, self.bn2 = nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2)
        self.conv3, self.bn3 = nn.Conv2d(c2, d, 3, padding=1), nn.BatchNorm2d(d)
        self.position = nn.Parameter(0.02 * torch.randn((n // 4) * (n // 4), d))
        self.block1, self.block2 = Block(d, heads, 2 * d), Block(d, heads, 2 * d)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        h = F.max_pool2d(F.relu(self.bn2(self.conv2(h))), 2)
        h = F.relu(self.bn3(self.conv3(h)))
        t = h.flatten(2).transpose(1, 2) + self.position
        t = self.block2(self.block1(t))
        return self.head(t.mean(dim=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--antennas", type=int, default=64)
    ap.add_argument("--subcarriers", type=int, default=16)
    ap.add_argument("--model-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    model = ConvAttentionNet(2 * a.subcarriers, a.antennas, d=a.model_size)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-4, weight_decay=0.01)
    x = torch.randn(a.batch, 2 * a.subcarriers, a.antennas, a.antennas)
    y = torch.arange(a.batch) % 2
    times, losses, cpu = [], [], []
    for i in range(a.warmup + a.steps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        dt = (time.perf_counter() - t0) * 1e3
        if i >= a.warmup:
            times.append(dt)
            cpu.append((time.process_time() - c0) * 1e3)
        losses.append(loss.item())
    times.sort()
    m = len(times)
    median = times[m // 2] if m % 2 else 0.5 * (times[m // 2 - 1] + times[m // 2])
    out = {
        "framework": f"torch {torch.__version__}", "threads": torch.get_num_threads(),
        "batch": a.batch, "antennas": a.antennas, "subcarriers": a.subcarriers, "model_size": a.model_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "step_ms_median": median, "step_ms_mean": sum(times) / m,
        "cpu_ms_per_step_median": sorted(cpu)[len(cpu) // 2],
        "samples_per_s": a.batch / (median / 1e3),
        "loss_first": losses[0], "loss_last": losses[-1],
    }
    if a.json:
        print(json.dumps(out, sort_keys=True))
    else:
        for k, v in out.items():
            print(f"{k:>16}: {v}")


if __name__ == "__main__":
    main()
