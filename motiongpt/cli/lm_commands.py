"""Language-model commands: ``motiongpt train lm``, ``motiongpt eval lm`` and ``motiongpt generate``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_MODEL = "models/motiongpt-small"


def register(groups) -> None:
    train = groups["train"].add_parser(
        "lm", help="train the motion-language model (stage 2 pretrain or stage 3 instruct)",
        description="Train the T5 motion-language model. Supports torchrun (DDP) and resumes from the newest "
                    "checkpoint in the output directory.")
    train.add_argument("--stage", choices=("pretrain", "instruct"), required=True)
    train.add_argument("--config", required=True, help="YAML config (models/configs/lm_*.yaml)")
    train.add_argument("--output-dir", help="override the config's output_dir")
    train.add_argument("--init", help="override the config's init folder")
    train.add_argument("--data", help="override the config's data_root")
    train.add_argument("--motion-tokenizer", help="override the config's motion_tokenizer folder")
    train.add_argument("--max-steps", type=int, help="override the config's max_steps")
    train.add_argument("--device", help="cpu, cuda, auto")
    train.add_argument("--threads", type=int, help="torch CPU threads")
    train.set_defaults(func=run_train)

    prepare = groups["train"].add_parser(
        "lm-data", help="prepare a language-model config's training data once (codes, captions, vectors)",
        description="Encode the config's split with its motion tokenizer (4 code-grid offsets), keep captions and "
                    "action labels and, with text conditioning, embed every caption; a config with "
                    "'prepared_data: FILE' then trains from FILE alone (no dataset, no sentence encoder needed).")
    prepare.add_argument("--config", required=True, help="YAML config of the first stage (with text_conditioning)")
    prepare.add_argument("--out", required=True, help="output .npz file")
    prepare.add_argument("--data", help="override the config's data_root")
    prepare.add_argument("--motion-tokenizer", help="override the config's motion_tokenizer folder")
    prepare.add_argument("--threads", type=int, help="torch CPU threads")
    prepare.add_argument("--vectors-from", metavar="FILE",
                         help="take each caption's sentence vector from this earlier prepared file (made with any "
                              "motion tokenizer) instead of the sentence encoder: for a machine without it")
    prepare.set_defaults(func=run_prepare)

    remap = groups["train"].add_parser(
        "lm-remap", help="carry a trained language model over to a new motion tokenizer (to fine-tune it)",
        description="Write the language model of MODEL as one for the codes of a new motion tokenizer: each new code's "
                    "embedding and output rows become the mean of the old codes' rows, weighted by how often the new "
                    "code stands where each old code stood in the training motions (OLD_DATA and NEW_DATA: the same "
                    "config's `lm-data` files, made with the old and the new tokenizer). Then fine-tune it with "
                    "`motiongpt train lm --init OUT` on NEW_DATA.")
    remap.add_argument("--model", required=True,
                       help="model folder (or a bare language model folder) trained on OLD_DATA's codes")
    remap.add_argument("--old-data", required=True, help="prepared file made with the model's motion tokenizer")
    remap.add_argument("--new-data", required=True, help="prepared file of the same motions, the new tokenizer")
    remap.add_argument("--out", required=True, help="output language model folder")
    remap.set_defaults(func=run_remap)

    evaluate = groups["eval"].add_parser(
        "lm", help="evaluate the language model on the held-out split (prints JSON)",
        description="Text-to-motion and motion-to-text action accuracy, prediction and in-between ADE/FDE "
                    "against baselines, and time per command, on the held-out (test) split.")
    evaluate.add_argument("--model", default=DEFAULT_MODEL)
    evaluate.add_argument("--data", default="data/embedded", help="dataset root (HumanML3D layout)")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--samples-per-caption", type=int, default=1)
    evaluate.add_argument("--max-items", type=int, default=None, help="evaluate at most this many items per task")
    evaluate.add_argument("--temperature", type=float, default=None, help="text-to-motion sampling temperature")
    evaluate.add_argument("--greedy", action="store_true", help="text-to-motion greedy decoding")
    evaluate.add_argument("--inbetween-candidates", type=int, default=8,
                          help="gaps sampled per in-between window (the best-fitting one is kept)")
    evaluate.add_argument("--candidates", type=int, default=None,
                          help="text-to-motion: motions sampled per prompt, the best fit kept "
                               "(default: the model folder's text_to_motion.candidates)")
    evaluate.add_argument("--neighbours", type=int, default=None,
                          help="text-to-motion: nearest training captions used as extra prompts (default: the model's)")
    evaluate.add_argument("--rerank", choices=("likelihood", "similarity", "meaning"), default=None,
                          help="text-to-motion: how the best candidate is chosen (default: the model's)")
    evaluate.add_argument("--guidance", type=float, default=None,
                          help="text-to-motion: classifier-free guidance scale, 1 for none (default: the model "
                               "folder's text_to_motion.guidance)")
    evaluate.add_argument("--rephrase", choices=("none", "meaning"), default=None,
                          help="text-to-motion: 'meaning' generates from the training caption of the request's "
                               "meaning nearest to it (default: the model folder's text_to_motion.rephrase)")
    evaluate.add_argument("--no-grounding", action="store_true",
                          help="text-to-motion from the caption alone (ignore the model folder's caption grounding)")
    evaluate.add_argument("--t2m-only", action="store_true", help="only the text-to-motion accuracy")
    evaluate.add_argument("--out", help="also write the JSON here")
    evaluate.add_argument("--threads", type=int, default=None)
    add_backend_arguments(evaluate)
    evaluate.set_defaults(func=run_eval)

    generate = groups["top"].add_parser(
        "generate", help="generate a motion from text (multi-step commands allowed)",
        description='Generate motion for TEXT, e.g. "walk forward, then turn left, then wave". Writes '
                    "joints.npy (T,22,3), features.npy (T,263), codes.npy, command.txt, caption.txt (the model's own "
                    "description of the generated motion), steps.json (each step's text, frames, the training "
                    "caption it was generated from when the model rephrases, and how many times as fast it is "
                    "played) and animation.gif "
                    "(and motion.bvh with --bvh).")
    generate.add_argument("text")
    generate.add_argument("--model", default=DEFAULT_MODEL)
    generate.add_argument("--out", required=True, help="output folder")
    generate.add_argument("--seconds", type=float, default=None,
                          help="duration of each step that does not say its own (\"wave for 2 seconds\")")
    generate.add_argument("--seed", type=int, default=None)
    generate.add_argument("--top-k", type=int, default=None)
    generate.add_argument("--temperature", type=float, default=None)
    generate.add_argument("--greedy", action="store_true")
    generate.add_argument("--candidates", type=int, default=None,
                          help="motions sampled per step, the best match to its text kept (default: the model's)")
    generate.add_argument("--guidance", type=float, default=None,
                          help="classifier-free guidance scale, 1 for none (default: the model's)")
    generate.add_argument("--transition-seconds", type=float, default=0.8)
    generate.add_argument("--no-render", action="store_true", help="skip the animation")
    generate.add_argument("--bvh", action="store_true",
                          help="also write motion.bvh (SMPL joint names, metres, 20 fps; imports into Blender)")
    add_backend_arguments(generate)
    generate.set_defaults(func=run_generate)


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("torch", "onnxruntime"), default="torch",
                        help="inference backend (onnxruntime needs the model folder's onnx/ export: "
                             "motiongpt export onnx --model DIR)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (CUDA when there is one)")


def run_train(args: argparse.Namespace) -> int:
    from motiongpt.lm.training import LMTrainingConfig, train_language_model

    config = LMTrainingConfig.from_yaml(args.config, output_dir=args.output_dir, init=args.init,
                                        data_root=args.data, motion_tokenizer=args.motion_tokenizer,
                                        max_steps=args.max_steps, device=args.device, threads=args.threads)
    if config.stage != args.stage:
        raise ValueError(f"{args.config}: the config is for stage {config.stage!r}, not {args.stage!r}")
    folder = train_language_model(config)
    print(folder)
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    from motiongpt.lm.training import LMTrainingConfig, prepare_training_data

    config = LMTrainingConfig.from_yaml(args.config, data_root=args.data, motion_tokenizer=args.motion_tokenizer,
                                        threads=args.threads)
    print(prepare_training_data(config, args.out, vectors_from=args.vectors_from))
    return 0


def run_remap(args: argparse.Namespace) -> int:
    from motiongpt.lm.code_remap import remap_model_folder

    folder, correspondence = remap_model_folder(args.model, args.old_data, args.new_data, args.out)
    print(f"remapped {correspondence.counts.shape[1]} old codes -> {correspondence.counts.shape[0]} new "
          f"({correspondence.used_new_codes} new codes used in the training motions; {correspondence.agreement:.1%} "
          f"of positions hold the old code their new code most often stands with): {folder}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from motiongpt.lm.evaluation import EvaluationSettings, evaluate_model

    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    settings = EvaluationSettings(seed=args.seed, samples_per_caption=args.samples_per_caption,
                                  max_items=args.max_items, split=args.split,
                                  inbetween_candidates=args.inbetween_candidates,
                                  temperature=args.temperature, greedy=args.greedy,
                                  text_to_motion_candidates=args.candidates, text_to_motion_only=args.t2m_only,
                                  text_to_motion_neighbours=args.neighbours, text_to_motion_rerank=args.rerank,
                                  text_to_motion_rephrase=args.rephrase,
                                  text_to_motion_guidance=args.guidance,
                                  grounding=not args.no_grounding, backend=args.backend, device=args.device,
                                  threads=args.threads)
    report = evaluate_model(args.model, args.data, settings)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    import numpy as np

    from motiongpt.lm.api import MotionGPT

    model = MotionGPT.from_pretrained(args.model, device=args.device, backend=args.backend)
    result = model.command(args.text, seconds_per_step=args.seconds, transition_seconds=args.transition_seconds,
                           seed=args.seed, top_k=args.top_k, temperature=args.temperature, greedy=args.greedy,
                           candidates=args.candidates, guidance=args.guidance)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "joints.npy", result.joints.astype(np.float32))
    np.save(out / "features.npy", result.features.astype(np.float32))
    np.save(out / "codes.npy", result.codes)
    (out / "command.txt").write_text(args.text.strip() + "\n")
    # the model's own description of what it generated, from the codes it chose (its motion-to-text task)
    (out / "caption.txt").write_text(model.captions_for_codes([result.codes])[0].strip() + "\n")
    steps = [{"text": t, "first_frame": a, "end_frame": b} for t, a, b in result.steps]
    # the training caption each step was generated from, when the model rephrases
    for step, caption in zip(steps, model.generated_from([step["text"] for step in steps]) or ()):
        step["generated_from"] = caption
    for step, speed in zip(steps, model.played_speeds([step["text"] for step in steps])):
        step["played_speed"] = speed  # times as fast as generated (a speed the step names, speed_factors)
    (out / "steps.json").write_text(json.dumps(steps, indent=1) + "\n")
    if args.bvh:
        from motiongpt.data.bvh import write_bvh
        write_bvh(out / "motion.bvh", result.joints, fps=20.0)
    if not args.no_render:
        from motiongpt.render import render_motion
        render_motion(result.joints, out / "animation.gif")
    print(f"{out}: {result.joints.shape[0]} frames ({result.seconds:.1f} s), {len(result.steps)} step(s)",
          file=sys.stderr)
    return 0
