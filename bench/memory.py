"""Resident memory of a web process and of a GPU worker with their models loaded (full-size
architectures built from config, random weights: the sizes are real, the outputs meaningless).

Each row runs in a fresh process that imports Django's settings, builds the models, fills every
weight (so each page is really resident) and reports VmRSS and VmHWM from /proc/self/status.

- web, MiniLM: the caption query encoder (`all-MiniLM-L6-v2`, the real one, from its PyPI package);
- web, + CLIP ViT-L/14@448: open_clip's ViT-L-14 at 448 px (the MedICaT-ROCO model's shape), fp32
  as a web process runs it on the CPU; also the cold and warm text-query time;
- worker, SD-1.5: UNet, VAE and CLIP text encoder with Stable Diffusion 1.5's configs, fp16;
- worker, + GPT-NeoX 2.8B: Dolly-v2-3b's config (GPT-NeoX, 32 layers, hidden 2560), bf16.

    .venv/bin/python bench/memory.py            # a few GB; run it once
    .venv/bin/python bench/memory.py --quick    # the first row only (the web process with MiniLM)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT


def status_kib(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


# Every model filled stays referenced here until the memory is read, as in a running process (a model
# left to the function that built it was freed before the reading: earlier runs reported ~1 GB for all).
LOADED: list = []


def fill(module, torch) -> int:
    """Touch every weight (random values) so the memory is resident; the number of parameters."""
    LOADED.append(module)
    count = 0
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 0.02)
            count += p.numel()
    return count


def minilm() -> dict:
    from apps.ml.encoders import load_encoder
    from apps.ml.specs import default_caption_model

    load_encoder(default_caption_model()).encode_texts(["chest x-ray"])
    return {}


def clip(torch) -> dict:
    import open_clip

    model = open_clip.create_model("ViT-L-14", pretrained=None, force_image_size=448).eval()
    params = fill(model, torch)
    tokens = open_clip.get_tokenizer("ViT-L-14")(["chest x-ray with pneumothorax"])
    times = []
    with torch.inference_mode():
        for _ in range(6):
            started = time.perf_counter()
            model.encode_text(tokens)
            times.append(time.perf_counter() - started)
    return {"params": params, "text_cold_ms": times[0] * 1000, "text_warm_ms": sorted(times[1:])[2] * 1000}


def sd15(torch) -> int:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    unet = UNet2DConditionModel(
        sample_size=64,
        cross_attention_dim=768,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        attention_head_dim=8,
        layers_per_block=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=2,
        sample_size=512,
    )
    text = CLIPTextModel(
        CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12)
    )
    count = 0
    for module in (unet, vae, text):
        module.to(torch.float16)
        count += fill(module, torch)
    return count


def neox(torch) -> int:
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    config = GPTNeoXConfig(
        vocab_size=50280,
        hidden_size=2560,
        num_hidden_layers=32,
        num_attention_heads=32,
        intermediate_size=10240,
        max_position_embeddings=2048,
        rotary_pct=0.25,
        use_parallel_residual=True,
        tie_word_embeddings=False,
    )
    torch.set_default_dtype(torch.bfloat16)  # built in bf16: never a float32 copy of 2.8B weights
    try:
        model = GPTNeoXForCausalLM(config)
    finally:
        torch.set_default_dtype(torch.float32)
    return fill(model, torch)


def child(kind: str) -> None:
    import os

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirage_site.settings")
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch

    base = status_kib("VmRSS")
    extra: dict = {}
    if kind.startswith("web"):
        minilm()
        if kind == "web+clip":
            extra = clip(torch)
    else:
        extra["params"] = sd15(torch)
        if kind == "worker+llm":
            extra["params"] += neox(torch)
    print(json.dumps({"base_mib": base / 1024, "rss_mib": status_kib("VmRSS") / 1024,
                      "peak_mib": status_kib("VmHWM") / 1024, **extra}))  # fmt: skip


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    quick = sys.argv[1:] == ["--quick"]
    if sys.argv[1:] and not quick:
        raise SystemExit(__doc__)
    rows = {
        "web: MiniLM caption encoder": "web",
        "web: MiniLM + CLIP ViT-L/14@448 (fp32)": "web+clip",
        "worker: SD-1.5 UNet + VAE + text encoder (fp16)": "worker",
        "worker: SD-1.5 + GPT-NeoX 2.8B (bf16)": "worker+llm",
    }
    if quick:
        print("quick: the web process with MiniLM only; the full-size models' rows need the full run\n")
        rows = dict(list(rows.items())[:1])
    print("| process | parameters | resident MiB | peak MiB |")
    print("| --- | --- | --- | --- |")
    notes = []
    for label, kind in rows.items():
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind], capture_output=True, text=True, cwd=ROOT
        )
        if out.returncode:
            print(f"| {label} | failed: {out.stderr.strip().splitlines()[-1]} | | |")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        params = f"{r['params'] / 1e6:,.0f} M" if "params" in r else "22 M"
        print(f"| {label} | {params} | {r['rss_mib']:,.0f} | {r['peak_mib']:,.0f} |")
        if "text_cold_ms" in r:
            notes.append(
                f"CLIP ViT-L/14 text tower on the CPU: cold query {r['text_cold_ms']:.0f} ms, "
                f"warm {r['text_warm_ms']:.0f} ms (clip-retrieval publishes ≈ 50 ms per query)"
            )
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
