"""Stage 2 (motion-language pretraining) and stage 3 (instruction tuning) of the language model.

    motiongpt train lm --stage pretrain --config models/configs/lm_small_pretrain.yaml
    motiongpt train lm --stage instruct --config models/configs/lm_small_instruct.yaml
    torchrun --nproc-per-node 2 -m motiongpt.cli train lm --stage pretrain --config ...   # DDP

Both stages keep the motion tokenizer frozen and train every T5 weight (as MotionGPT does). Pretraining builds a
new model (or loads ``init``: a T5 folder such as flan-t5-base, or a saved model); the small model's text
tokenizer is trained here with SentencePiece on the training captions and both template files. Instruction
tuning starts from the pretrained model folder. The step loop, checkpoints/resume, progress bar and
TensorBoard/CSV logging are the shared `motiongpt.training` plumbing. The result, ``<output_dir>/model``,
is a complete `MotionGPT` folder.
"""
from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from motiongpt.config_files import build_dataclass, read_yaml
from motiongpt.lm.model import T5ArchitectureConfig
from motiongpt.lm.text_conditioning import TextConditioningConfig, TextConditioningError
from motiongpt.lm.text_grounding import GroundingConfigError, TextToMotionSettings

LOGGER = logging.getLogger(__name__)

STAGES = ("pretrain", "instruct")


class LMConfigError(ValueError):
    """A language-model training config is missing, unreadable, or has invalid values."""


@dataclass
class LMTrainingConfig:
    stage: str = "pretrain"
    data_root: str = "data/embedded"
    split: str = "train"
    # the split's codes, captions, action labels and caption vectors prepared once by `motiongpt train lm-data`
    # (motiongpt.lm.prepared_data); used instead of data_root, and then no sentence encoder is loaded
    prepared_data: str | None = None
    motion_tokenizer: str = "models/tokenizer-small"
    templates: str = "pretrain"              # built-in name or a JSON path
    tokenizer_templates: tuple[str, ...] = ("pretrain", "instructions")  # text the SentencePiece model sees
    init: str | None = None                  # a T5 folder or a saved MotionGPT/LM folder
    output_dir: str = "runs/lm-pretrain"
    architecture: T5ArchitectureConfig = field(default_factory=T5ArchitectureConfig)
    # how the saved model answers text-to-motion (motiongpt.lm.text_grounding); with a sentence encoder and
    # a caption file name, the training captions are written into the model folder for grounding
    text_to_motion: TextToMotionSettings = field(default_factory=TextToMotionSettings)
    text_vocab_size: int = 1000
    # a frozen sentence encoder in the text path (motiongpt.lm.text_conditioning); None: plain T5 input
    text_conditioning: TextConditioningConfig | None = None
    # clip sampling balanced over the action labels of <data_root>/actions.json (1: equal share per action)
    action_balance: float = 0.0
    # within an action, clip sampling balanced over its styles (<data_root>/styles.json; unstyled clips such as
    # DeepMimic's are a group of their own; 1: equal share per style of an action). Needs action_balance.
    style_balance: float = 0.0
    # how often each class of subtask of the templates is drawn, relative to the others ({"m2t": 3}: each
    # motion-to-text subtask three times as often as a subtask of an unnamed class); empty: every subtask equally
    task_weights: dict[str, float] = field(default_factory=dict)
    max_input_length: int = 256
    max_codes: int = 50
    batch_size: int = 16
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    max_steps: int = 2000
    warmup_steps: int = 100
    schedule: str = "cosine"
    min_lr_ratio: float = 0.05
    grad_clip_norm: float | None = 1.0
    checkpoint_every: int = 500
    log_every: int = 20
    seed: int = 1234
    device: str = "auto"
    threads: int | None = None
    progress_bar: bool = True

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise LMConfigError(f"stage must be one of {STAGES}, got {self.stage!r}")
        if isinstance(self.architecture, dict):
            self.architecture = T5ArchitectureConfig.from_dict(self.architecture)
        if isinstance(self.text_conditioning, dict):
            try:
                self.text_conditioning = TextConditioningConfig.from_dict(self.text_conditioning)
            except (TextConditioningError, TypeError) as error:
                raise LMConfigError(str(error)) from error
        if not isinstance(self.text_to_motion, TextToMotionSettings):
            try:
                self.text_to_motion = TextToMotionSettings.from_dict(self.text_to_motion)
            except (GroundingConfigError, TypeError) as error:
                raise LMConfigError(str(error)) from error
        self.tokenizer_templates = tuple(self.tokenizer_templates)
        for name in ("batch_size", "max_steps", "text_vocab_size", "max_input_length", "max_codes"):
            if int(getattr(self, name)) < 1:
                raise LMConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not float(self.learning_rate) > 0:
            raise LMConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not isinstance(self.task_weights, dict) or any(
                not isinstance(w, (int, float)) or isinstance(w, bool) or w < 0 for w in self.task_weights.values()):
            raise LMConfigError(f"task_weights must map task classes to non-negative numbers, got {self.task_weights!r}")
        self.task_weights = {str(k): float(v) for k, v in self.task_weights.items()}
        if self.style_balance and not self.action_balance:
            raise LMConfigError("style_balance shares out each action's share: it needs action_balance")
        if self.stage == "instruct" and not self.init:
            raise LMConfigError("stage 'instruct' needs 'init': the pretrained model folder")

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> "LMTrainingConfig":
        data = read_yaml(path, LMConfigError) or {}
        if isinstance(data, dict):
            data.update({k: v for k, v in overrides.items() if v is not None})
        return build_dataclass(cls, data, str(path), LMConfigError)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["tokenizer_templates"] = list(self.tokenizer_templates)
        data["text_to_motion"] = self.text_to_motion.to_dict()
        if self.text_conditioning is not None:
            data["text_conditioning"] = dataclasses.asdict(self.text_conditioning)
        return data


def template_sentences(names: Sequence[str]) -> list[str]:
    from motiongpt.lm.templates import load_templates

    return [t for name in names for task in load_templates(name) for t in task.inputs + task.outputs]


def build_language_model(config: LMTrainingConfig, captions: Sequence[str], code_num: int,
                         saved_tokenizer: Path | None = None, lazy_encoder: bool = False):
    """The model a stage starts from: ``init`` if given, else a new T5 with a SentencePiece text vocabulary
    (trained on ``captions`` and the templates, or read from ``saved_tokenizer`` when resuming).
    ``lazy_encoder``: the sentence encoder is loaded only for a text whose vector is not prefilled."""
    from motiongpt.lm.model import MotionLanguageModel
    from motiongpt.lm.text_tokenizer import train_text_tokenizer
    from motiongpt.lm.vocabulary import MotionVocabulary

    if config.init:
        from motiongpt.lm.api import language_model_parts

        lm_folder, _ = language_model_parts(config.init)
        model = MotionLanguageModel.from_pretrained(lm_folder, code_num=code_num,
                                                    max_input_length=config.max_input_length,
                                                    lazy_encoder=lazy_encoder)
        if model.vocabulary.code_num != code_num:
            raise LMConfigError(f"{init}: built for {model.vocabulary.code_num} codes, the tokenizer has {code_num}")
        return model
    if saved_tokenizer is not None and saved_tokenizer.is_dir():
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(str(saved_tokenizer), legacy=True)
    else:
        sentences = list(captions) + template_sentences(config.tokenizer_templates)
        tokenizer = train_text_tokenizer(sentences, vocab_size=config.text_vocab_size, seed=config.seed)
    return MotionLanguageModel.build(config.architecture, tokenizer, MotionVocabulary(code_num),
                                     config.max_input_length, seed=config.seed,
                                     conditioning=config.text_conditioning, lazy_encoder=lazy_encoder)


def read_action_labels(data_root: Path) -> dict[str, str]:
    """{motion name: action} from the dataset's actions.json (written by the embedded dataset builder)."""
    import json

    path = data_root / "actions.json"
    if not path.is_file():
        raise LMConfigError(f"action_balance needs {path} (motion name -> action label)")
    try:
        return {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
    except (json.JSONDecodeError, AttributeError) as error:
        raise LMConfigError(f"{path}: not a JSON object of action labels: {error}") from error


def task_draw_weights(tasks: Sequence, task_weights: dict[str, float]) -> list[float] | None:
    """One draw weight per template subtask: its class's in ``task_weights`` (`LMTrainingConfig.task_weights`), 1
    for a class not named; None (every subtask equally) when none is named. A class the templates lack is an
    error (a misspelt class would otherwise change nothing)."""
    if not task_weights:
        return None
    classes = {task.task_class for task in tasks}
    unknown = sorted(set(task_weights) - classes)
    if unknown:
        raise LMConfigError(f"task_weights names task classes the templates do not have: {', '.join(unknown)} "
                            f"(they have {', '.join(sorted(classes))})")
    return [float(task_weights.get(task.task_class, 1.0)) for task in tasks]


def read_style_labels(data_root: Path) -> dict[str, str]:
    """{motion name: style} from the dataset's styles.json (written by the embedded dataset builder with the
    Bandai Namco data)."""
    from motiongpt.data.humanml3d import load_styles

    if not (data_root / "styles.json").is_file():
        raise LMConfigError(f"style_balance needs {data_root / 'styles.json'} (motion name -> style label; the "
                            f"embedded dataset built with --bandai)")
    return load_styles(data_root)


def load_training_data(config: LMTrainingConfig):
    """The config's prepared data file, checked against its motion tokenizer and sentence encoder."""
    from motiongpt.lm.prepared_data import PreparedDataError, load_prepared, tokenizer_fingerprint

    try:
        encoder = config.text_conditioning.sentence_encoder if config.text_conditioning else None
        return load_prepared(config.prepared_data, tokenizer_fingerprint(config.motion_tokenizer), encoder)
    except PreparedDataError as error:
        raise LMConfigError(str(error)) from error


def prefill_sentence_vectors(model, prepared, path: str) -> None:
    """Put the prepared caption vectors into the model's sentence-vector cache (same encoder required)."""
    if model.conditioning is None:
        return
    if prepared.vectors is None or prepared.sentence_encoder != model.conditioning.sentence_encoder:
        raise LMConfigError(f"{path}: its caption vectors are by {prepared.sentence_encoder!r}, the model's text "
                            f"conditioning uses {model.conditioning.sentence_encoder!r}; prepare the data with "
                            f"a config that has the same text_conditioning")
    model.sentence_vectors.prefill(prepared.vector_texts, prepared.vectors)


def prepare_training_data(config: LMTrainingConfig, out: str | Path, vectors_from: str | Path | None = None) -> Path:
    """`motiongpt train lm-data`: the config's split encoded by its motion tokenizer, with action labels and,
    with text conditioning, every caption embedded by its sentence encoder, or its vector taken from the earlier
    prepared file ``vectors_from`` (`StoredVectors`: for a machine without the sentence encoder)."""
    from motiongpt.data.humanml3d import load_split
    from motiongpt.lm.prepared_data import PreparedDataError, StoredVectors, prepare, save_prepared
    from motiongpt.tokenizer import MotionTokenizer

    if config.threads:
        import torch
        torch.set_num_threads(int(config.threads))
    motion_tokenizer = MotionTokenizer.from_pretrained(config.motion_tokenizer, device="cpu")
    motion_tokenizer.requires_grad_(False)
    records = load_split(config.data_root, config.split)
    actions_file = Path(config.data_root) / "actions.json"
    actions = read_action_labels(Path(config.data_root)) if actions_file.is_file() else {}
    encoder, encoder_name = None, None
    conditioning = config.text_conditioning  # prepare with the pretrain config: every stage reads the file
    if conditioning is not None:
        from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder
        encoder_name = conditioning.sentence_encoder
        encoder = (SentenceEncoder(resolve_encoder_folder(encoder_name)) if vectors_from is None
                   else StoredVectors(vectors_from, encoder_name))
    elif vectors_from is not None:
        raise PreparedDataError("--vectors-from: this config has no text_conditioning, so its data has no sentence "
                                "vectors to take")
    data = prepare(records, motion_tokenizer, config.motion_tokenizer, actions, encoder_name, encoder)
    path = save_prepared(out, data)
    LOGGER.info("prepared %s: %d clips, %d captions%s", path, len(data.clips), len(data.captions),
                f", vectors by {encoder_name}" if encoder_name else "")
    return path


def train_language_model(config: LMTrainingConfig, records: Sequence[Any] | None = None) -> Path:
    """Run one stage; returns the folder of the trained `MotionGPT` model (``<output_dir>/model``)."""
    import torch

    from motiongpt.data.action_balance import action_balanced_weights
    from motiongpt.lm.api import MotionGPT
    from motiongpt.lm.dataset import (ExampleSampler, LanguageModelBatches, encode_records,
                                      seq2seq_loss)
    from motiongpt.lm.templates import PromptFiller, load_templates
    from motiongpt.tokenizer import MotionTokenizer
    from motiongpt.training import (LRScheduleConfig, Trainer, TrainLoopConfig, build_lr_scheduler,
                                    seed_everything, setup_distributed, teardown_distributed)

    if config.threads:
        torch.set_num_threads(int(config.threads))
    context = setup_distributed(config.device)
    try:
        seed_everything(config.seed, context.rank)
        motion_tokenizer = MotionTokenizer.from_pretrained(config.motion_tokenizer, device=context.device)
        motion_tokenizer.requires_grad_(False)
        output_dir = Path(config.output_dir)
        prepared = load_training_data(config) if config.prepared_data and records is None else None
        if prepared is not None:
            clips, actions = prepared.clips, prepared.actions
        else:
            if records is None:
                from motiongpt.data.humanml3d import load_split
                records = load_split(config.data_root, config.split)
            clips = encode_records(records, motion_tokenizer)
            actions = read_action_labels(Path(config.data_root)) if config.action_balance else {}
        captions = sorted({c for clip in clips for c in clip.captions})
        model = build_language_model(config, captions, motion_tokenizer.config.code_num, output_dir / "lm_init",
                                     lazy_encoder=prepared is not None and prepared.vectors is not None)
        if prepared is not None:
            prefill_sentence_vectors(model, prepared, config.prepared_data)
        model.network.to(context.device)
        tasks = load_templates(config.templates)
        weights = None
        if config.action_balance:
            if not actions:
                raise LMConfigError("action_balance needs action labels (actions.json of the dataset)")
            styles = read_style_labels(Path(config.data_root)) if config.style_balance else None
            weights = action_balanced_weights([clip.name for clip in clips], actions, config.action_balance,
                                              styles, config.style_balance)
        dropout = model.conditioning.caption_dropout if model.conditioning is not None else 0.0
        if model.sentence_vectors is not None:  # every training caption's vector stays cached
            model.sentence_vectors.cache_size = max(model.sentence_vectors.cache_size, 4 * len(captions) + 1024)
        sampler = ExampleSampler(clips, tasks, PromptFiller(model.vocabulary), seed=config.seed + context.rank,
                                 clip_weights=weights, caption_dropout=dropout,
                                 task_weights=task_draw_weights(tasks, config.task_weights))
        batches = LanguageModelBatches(sampler, model.tokenizer, config.batch_size, config.max_input_length,
                                       context.device, sentence_vectors=model.sentence_vectors)
        optimizer = torch.optim.AdamW(model.network.parameters(), lr=config.learning_rate, betas=(0.9, 0.99),
                                      weight_decay=config.weight_decay)
        schedule = LRScheduleConfig(config.schedule, config.warmup_steps, config.min_lr_ratio)
        scheduler = build_lr_scheduler(optimizer, schedule, config.max_steps)
        if context.is_main:
            output_dir.mkdir(parents=True, exist_ok=True)
            (output_dir / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
            LOGGER.info("stage %s: %d clips, %d captions, %d tasks, T5 with %.2fM parameters, vocabulary %d",
                        config.stage, len(clips), len(captions), len(tasks),
                        sum(p.numel() for p in model.network.parameters()) / 1e6, len(model.tokenizer))
        loop = TrainLoopConfig(max_steps=config.max_steps, checkpoint_every=config.checkpoint_every,
                               log_every=config.log_every, grad_clip_norm=config.grad_clip_norm,
                               progress_bar=config.progress_bar)
        trainer = Trainer(model.network, optimizer, scheduler, seq2seq_loss, batches, loop, output_dir, context,
                          run_info={"stage": config.stage, "config": config.to_dict()})
        if context.is_main and not (output_dir / "lm_init").exists():
            # a resumed run must see the same text vocabulary as the checkpoints: keep the tokenizer
            model.tokenizer.save_pretrained(str(output_dir / "lm_init"))
        result = trainer.fit()
        model_folder = output_dir / "model"
        if context.is_main:
            model.network.eval()
            from motiongpt.lm.text_grounding import CaptionGrounding
            grounding = CaptionGrounding.build(config.text_to_motion, captions, loaded=model.loaded_encoders())
            motiongpt = MotionGPT(model, motion_tokenizer, max_codes=config.max_codes,
                                  text_to_motion=config.text_to_motion, grounding=grounding)
            if model_folder.exists():
                shutil.rmtree(model_folder)
            motiongpt.save_pretrained(model_folder)
            summary = {"stage": config.stage, "steps": result.step, "resumed_from": result.resumed_from,
                       "wall_seconds": round(result.wall_seconds, 1),
                       "final_metrics": {k: float(v) for k, v in result.metrics.items()}}
            (output_dir / "summary.yaml").write_text(yaml.safe_dump(summary, sort_keys=False))
            LOGGER.info("saved %s (%d steps, %.0f s)", model_folder, result.step, result.wall_seconds)
        context.barrier()
        return model_folder
    finally:
        teardown_distributed()


def model_folder_from_checkpoint(checkpoint: str | Path, base: str | Path, out: str | Path) -> dict:
    """A model folder with the language-model weights of a training checkpoint (``step_*.pt`` of
    `train_language_model`'s ``checkpoints/``) and everything else of the model folder ``base`` (its motion
    tokenizer, text tokenizer, text conditioning, meaning index and text-to-motion settings), for choosing among a
    run's checkpoints on val. ``base`` must have the checkpoint's architecture and vocabulary (the run's ``init``
    folder, or the model folder the run wrote): the weights must fit, and the text vocabulary the run kept in its
    ``lm_init/`` (beside ``checkpoints/``) must be the base's. Writes ``OUT/checkpoint.yaml`` (where the weights came from);
    ``out`` must not exist. Returns what it wrote."""
    from motiongpt.lm.api import MotionGPT
    from motiongpt.training.checkpoint import CheckpointManager

    out = Path(out)
    if out.exists():
        raise ValueError(f"{out}: already exists; choose a new folder for the model")
    state = CheckpointManager.load(checkpoint)
    if not isinstance(state.get("model"), dict):
        raise ValueError(f"{checkpoint}: the checkpoint has no model weights")
    model = MotionGPT.from_pretrained(base)
    run_vocabulary = Path(checkpoint).resolve().parent.parent / "lm_init"
    if (run_vocabulary / "tokenizer.json").is_file():  # same-shaped weights over another vocabulary load silently
        from transformers import AutoTokenizer

        if (AutoTokenizer.from_pretrained(str(run_vocabulary), legacy=True).get_vocab()
                != model.language_model.tokenizer.get_vocab()):
            raise ValueError(f"{checkpoint}: its run's text vocabulary ({run_vocabulary}) is not that of {base}")
    try:
        model.language_model.network.load_state_dict(state["model"])
    except RuntimeError as error:
        raise ValueError(f"{checkpoint} does not fit the language model of {base} (another architecture or "
                         f"vocabulary): {str(error).splitlines()[0]}") from error
    model.save_pretrained(out)
    written = {"checkpoint": str(checkpoint), "step": int(state["step"]), "base": str(base)}
    (out / "checkpoint.yaml").write_text(yaml.safe_dump(written, sort_keys=False))
    return {**written, "out": str(out)}
