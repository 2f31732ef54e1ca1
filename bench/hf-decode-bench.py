#!/usr/bin/env python3
"""Peer for `spillway gpu-bench`: PyTorch/transformers decode at Llama-3-8B shapes, bf16 random weights
on the GPU, sdpa attention, a bf16 DynamicCache pre-filled with random keys/values (no prefill, like
ours). Same points and KV budget as gpu-bench; one CSV row per point on stdout.

usage: python3 bench/hf-decode-bench.py [--contexts 1024,4096,16384,32768] [--batches 1,4,16,64,max]
                                        [--kv-budget-gib 40] [--steps 16]
"""
import argparse
import time

import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

p = argparse.ArgumentParser()
p.add_argument("--contexts", default="1024,4096,16384,32768")
p.add_argument("--batches", default="1,4,16,64,max")
p.add_argument("--kv-budget-gib", type=float, default=40)
p.add_argument("--steps", type=int, default=16)
a = p.parse_args()

cfg = LlamaConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                  num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072, rope_theta=500000.0,
                  attn_implementation="sdpa")
torch.set_default_dtype(torch.bfloat16)
with torch.device("cuda"):
    model = LlamaForCausalLM(cfg).eval()
torch.set_default_dtype(torch.float32)
layers, kv_heads, d = cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.hidden_size // cfg.num_attention_heads
kv_per_token = 2 * 2 * layers * kv_heads * d
print(f"# torch {torch.__version__} device {torch.cuda.get_device_name()}", flush=True)
print("backend,kv,context,batch,max_batch,tokens_per_s,step_ms,gpu_mem_gib,kv_gib,achieved_gb_s,bandwidth_fraction", flush=True)
for context in [int(c) for c in a.contexts.split(",")]:
    capacity = context + a.steps + 4
    max_batch = int(a.kv_budget_gib * 2**30 / (capacity * kv_per_token))
    batches = []
    for b in a.batches.split(","):
        b = max_batch if b == "max" else int(b)
        if 1 <= b <= max_batch and b not in batches:
            batches.append(b)
    for batch in batches:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        try:
            with torch.inference_mode():
                cache = DynamicCache(config=cfg)
                for layer in range(layers):
                    k = torch.randn(batch, kv_heads, context, d, device="cuda", dtype=torch.bfloat16)
                    cache.update(k, torch.randn_like(k), layer)
                    del k
                ids = torch.randint(0, cfg.vocab_size, (batch, 1), device="cuda")
                for s in range(a.steps + 3):
                    if s == 3:
                        torch.cuda.synchronize()
                        start = time.perf_counter()
                    pos = torch.full((batch, 1), context + s, device="cuda", dtype=torch.long)
                    out = model(input_ids=ids, past_key_values=cache, position_ids=pos, use_cache=True)
                    ids = out.logits[:, -1:].argmax(-1)
                torch.cuda.synchronize()
                ms = (time.perf_counter() - start) * 1e3 / a.steps
            mem = torch.cuda.max_memory_allocated() / 2**30
            print(f"transformers,bf16,{context},{batch},{max_batch},{batch / (ms / 1e3):.1f},{ms:.3f},{mem:.2f},"
                  f"{batch * capacity * kv_per_token / 2**30:.2f},,", flush=True)
        except torch.OutOfMemoryError:
            print(f"transformers,bf16,{context},{batch},{max_batch},OOM,,,,,", flush=True)
        finally:
            cache = out = None
