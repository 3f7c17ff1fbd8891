"""Tiny, randomly initialised models saved in the real on-disk formats, for tests that need no hub.

The real encoders (MedICaT-ROCO CLIP, PubMedCLIP) cannot be downloaded here, so tests build a model of
the same architecture family, save it exactly as the hub repository stores it, and load it back through
the same code path a downloaded model goes through.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

TINY_OPEN_CLIP_NAME = "mirage-tiny-vit"
SEED = 0

# CLIP's BPE tokenizer pads every text to 77 tokens and knows 49408 ids, so the text tower keeps those.
CLIP_CONTEXT_LENGTH = 77
CLIP_VOCAB_SIZE = 49408


def _tiny_open_clip_cfg(embed_dim: int, image_size: int) -> dict:
    return {
        "embed_dim": embed_dim,
        "vision_cfg": {"image_size": image_size, "layers": 2, "width": 64, "head_width": 32, "patch_size": 8},
        "text_cfg": {
            "context_length": CLIP_CONTEXT_LENGTH,
            "vocab_size": CLIP_VOCAB_SIZE,
            "width": 64,
            "heads": 2,
            "layers": 2,
        },
    }


def build_tiny_open_clip(dirpath: Path, *, embed_dim: int = 32, image_size: int = 32) -> Path:
    """Save a tiny open_clip ViT in the hub's format: open_clip_config.json + open_clip_model.safetensors."""
    import open_clip
    import torch
    from open_clip.push_to_hf_hub import save_config_for_hf
    from safetensors.torch import save_file

    dirpath = Path(dirpath)
    dirpath.mkdir(parents=True, exist_ok=True)
    model_cfg = _tiny_open_clip_cfg(embed_dim, image_size)
    # Registered the way a custom architecture is added to open_clip: a json file named after the model.
    cfg_file = dirpath / f"{TINY_OPEN_CLIP_NAME}.json"
    cfg_file.write_text(json.dumps(model_cfg))
    open_clip.add_model_config(cfg_file)

    torch.manual_seed(SEED)
    model = open_clip.create_model(TINY_OPEN_CLIP_NAME)
    save_file(model.state_dict(), dirpath / "open_clip_model.safetensors")
    # open_clip's own writer, so the config has the same keys as one pushed to the hub.
    save_config_for_hf(model, dirpath / "open_clip_config.json", model_config=model_cfg)
    cfg_file.unlink()
    return dirpath


def _clip_bpe_vocab_and_merges() -> tuple[dict[str, int], list[str]]:
    """CLIP's vocabulary and merges, rebuilt from the BPE file open_clip bundles, as open_clip does."""
    from open_clip.tokenizer import bytes_to_unicode, default_bpe

    with gzip.open(default_bpe(), "rt", encoding="utf-8") as bpe:
        lines = bpe.read().split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1]
    byte_chars = list(bytes_to_unicode().values())
    tokens = byte_chars + [c + "</w>" for c in byte_chars] + ["".join(m.split()) for m in merges]
    # Same ids as open_clip's <start_of_text>/<end_of_text>, under the names transformers uses.
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {tok: i for i, tok in enumerate(tokens)}, merges


def build_tiny_hf_clip(dirpath: Path, *, projection_dim: int = 32, image_size: int = 32) -> Path:
    """Save a tiny transformers CLIPModel, a real CLIP tokenizer and an image processor, laid out as
    PubMedCLIP's repository is."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    dirpath = Path(dirpath)
    dirpath.mkdir(parents=True, exist_ok=True)
    vocab, merges = _clip_bpe_vocab_and_merges()
    (dirpath / "vocab.json").write_text(json.dumps(vocab))
    (dirpath / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tokenizer = CLIPTokenizer(vocab=str(dirpath / "vocab.json"), merges=str(dirpath / "merges.txt"))
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    # Saved apart, as in PubMedCLIP's repository (tokenizer files + preprocessor_config.json).
    tokenizer.save_pretrained(dirpath)
    image_processor.save_pretrained(dirpath)

    config = CLIPConfig(
        text_config={
            "vocab_size": CLIP_VOCAB_SIZE,
            "max_position_embeddings": CLIP_CONTEXT_LENGTH,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "bos_token_id": vocab["<|startoftext|>"],
            "eos_token_id": vocab["<|endoftext|>"],
            "pad_token_id": vocab["<|endoftext|>"],
        },
        vision_config={
            "image_size": image_size,
            "patch_size": 8,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
        },
        projection_dim=projection_dim,
    )
    torch.manual_seed(SEED)
    CLIPModel(config).save_pretrained(dirpath)
    return dirpath
