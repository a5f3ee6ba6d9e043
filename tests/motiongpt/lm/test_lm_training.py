"""Stage 2 then stage 3 training through the shared plumbing, on a tiny model (seconds)."""
import dataclasses
import json
import shutil
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import yaml

from motiongpt.lm.api import MotionGPT
from motiongpt.lm.training import LMConfigError, LMTrainingConfig, train_language_model
from motiongpt.training import read_metrics_csv


@dataclass
class Record:
    name: str
    features: np.ndarray
    captions: list


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from motiongpt.normalization import Normalizer
    from motiongpt.tokenizer import MotionTokenizer, VQVAEConfig

    folder = tmp_path_factory.mktemp("lm_training")
    torch.manual_seed(0)
    tokenizer = MotionTokenizer(VQVAEConfig(code_num=16, code_dim=8, output_emb_width=8, width=8, depth=1),
                                Normalizer(np.zeros(263), np.ones(263)))
    with torch.no_grad():
        tokenizer.quantizer.codebook.normal_()
    tokenizer.save_pretrained(folder / "vq")
    rng = np.random.default_rng(0)
    records = [Record(f"clip{i}", rng.normal(size=(60 + 8 * i, 263)).astype(np.float32),
                      [f"a person does action {i}", f"someone performs move {i}"]) for i in range(3)]
    return folder, records


def tiny_config(folder, stage, **kwargs):
    kwargs.setdefault("max_steps", 6)
    return LMTrainingConfig(
        stage=stage, motion_tokenizer=str(folder / "vq"), output_dir=str(folder / stage),
        architecture={"d_model": 16, "d_kv": 4, "num_heads": 4, "d_ff": 32, "num_layers": 1,
                      "num_decoder_layers": 1, "dropout_rate": 0.0},
        text_vocab_size=200, batch_size=4, learning_rate=3e-3, warmup_steps=1,
        checkpoint_every=3, log_every=2, progress_bar=False, device="cpu",
        templates="pretrain" if stage == "pretrain" else "instructions", **kwargs)


def test_pretrain_then_instruct_then_resume(setup):
    folder, records = setup
    model_dir = train_language_model(tiny_config(folder, "pretrain"), records)
    assert (model_dir / "motiongpt.yaml").is_file()
    metrics = read_metrics_csv(folder / "pretrain" / "metrics.csv")
    assert len(metrics["train/loss"]) == 3 and all(np.isfinite(v) for _, v in metrics["train/loss"])
    assert sorted(p.name for p in (folder / "pretrain" / "checkpoints").iterdir())[-1].endswith("6.pt")

    instruct_dir = train_language_model(tiny_config(folder, "instruct", init=str(model_dir)), records)
    model = MotionGPT.from_pretrained(instruct_dir)
    pretrained = MotionGPT.from_pretrained(model_dir)
    assert len(model.language_model.tokenizer) == len(pretrained.language_model.tokenizer)
    assert not torch.equal(model.language_model.t5.lm_head.weight, pretrained.language_model.t5.lm_head.weight)
    result = model.text_to_motion("a person does action 1", seconds=1.0, seed=0)
    assert result.joints.shape == (20, 22, 3)

    # resume: the same output folder continues from step 6 to step 8
    train_language_model(tiny_config(folder, "instruct", init=str(model_dir), max_steps=8), records)
    summary = yaml.safe_load((folder / "instruct" / "summary.yaml").read_text())
    assert summary["resumed_from"] == 6 and summary["steps"] == 8


def test_a_checkpoint_of_a_run_becomes_a_model_folder(setup, tmp_path, capsys):
    """`motiongpt export checkpoint`: the checkpoint's weights, everything else from the base folder."""
    from motiongpt.cli import main
    from motiongpt.training.checkpoint import CheckpointManager
    from tests.motiongpt_node.tiny_model import build_tiny_model

    folder, records = setup
    run = tmp_path / "run"
    base = train_language_model(dataclasses.replace(tiny_config(folder, "pretrain"), output_dir=str(run)), records)
    checkpoints = run / "checkpoints"
    out = tmp_path / "step3"
    assert main(["export", "checkpoint", "--checkpoint", str(checkpoints / "step_00000003.pt"), "--base", str(base),
                 "--out", str(out)]) == 0
    assert '"step": 3' in capsys.readouterr().out
    assert yaml.safe_load((out / "checkpoint.yaml").read_text())["step"] == 3
    weights = MotionGPT.from_pretrained(out).language_model.network.state_dict()
    saved = CheckpointManager.load(checkpoints / "step_00000003.pt")["model"]
    assert weights.keys() == saved.keys() and all(torch.equal(weights[k], saved[k]) for k in saved)
    final = MotionGPT.from_pretrained(base).language_model.network.state_dict()
    assert not all(torch.equal(final[k], saved[k]) for k in saved)  # step 3 is not the run's last step
    assert (out / "motiongpt.yaml").read_text() == (base / "motiongpt.yaml").read_text()
    # bad input: an existing folder, a checkpoint of another architecture, a corrupt checkpoint; nothing written
    assert main(["export", "checkpoint", "--checkpoint", str(checkpoints / "step_00000006.pt"), "--base", str(base),
                 "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    other = build_tiny_model(tmp_path / "other")
    assert main(["export", "checkpoint", "--checkpoint", str(checkpoints / "step_00000006.pt"), "--base",
                 str(other), "--out", str(tmp_path / "mismatch")]) == 2
    assert "text vocabulary" in capsys.readouterr().err  # the run's vocabulary is not the other model's
    loose = tmp_path / "loose" / "step_00000006.pt"  # away from its run: the weights' shapes still tell
    loose.parent.mkdir()
    shutil.copy(checkpoints / "step_00000006.pt", loose)
    assert main(["export", "checkpoint", "--checkpoint", str(loose), "--base", str(other),
                 "--out", str(tmp_path / "mismatch")]) == 2
    assert "does not fit the language model" in capsys.readouterr().err
    corrupt = tmp_path / "step_00000009.pt"
    corrupt.write_bytes(b"not a checkpoint")
    assert main(["export", "checkpoint", "--checkpoint", str(corrupt), "--base", str(base),
                 "--out", str(tmp_path / "corrupt")]) == 2
    assert "corrupt or unreadable" in capsys.readouterr().err
    # the same shapes over another text vocabulary: refused by the run's own vocabulary (lm_init/)
    vocabulary = json.loads((run / "lm_init" / "tokenizer.json").read_text())
    vocabulary["model"]["vocab"][5], vocabulary["model"]["vocab"][6] = (vocabulary["model"]["vocab"][6],
                                                                        vocabulary["model"]["vocab"][5])
    (run / "lm_init" / "tokenizer.json").write_text(json.dumps(vocabulary))
    assert main(["export", "checkpoint", "--checkpoint", str(checkpoints / "step_00000006.pt"), "--base", str(base),
                 "--out", str(tmp_path / "swapped")]) == 2
    assert "text vocabulary" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in ("mismatch", "corrupt", "swapped"))


def test_config_errors(tmp_path):
    with pytest.raises(LMConfigError, match="init"):
        LMTrainingConfig(stage="instruct")
    with pytest.raises(LMConfigError, match="stage"):
        LMTrainingConfig(stage="finetune")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: pretrain\nlearnin_rate: 1\n")
    with pytest.raises(LMConfigError, match="learnin_rate"):
        LMTrainingConfig.from_yaml(bad)
    with pytest.raises(LMConfigError, match="not found"):
        LMTrainingConfig.from_yaml(tmp_path / "missing.yaml")


def test_style_balanced_weights_share_an_action_among_its_styles():
    from motiongpt.data.action_balance import action_balanced_weights

    # walk: 8 happy takes, 2 sad ones and 2 unstyled (DeepMimic) clips; backflip: 2 unstyled clips
    names = [f"happy{i}" for i in range(8)] + ["sad0", "sad1", "dm_walk0", "dm_walk1", "flip0", "flip1"]
    actions = {n: ("backflip" if n.startswith("flip") else "walk") for n in names}
    styles = {n: n[:-1] for n in names if n.startswith(("happy", "sad"))}

    def shares(weights):
        total = sum(weights)
        groups = {"happy": "happy", "sad": "sad", "dm_walk": "dm_walk", "flip": "flip"}
        return {g: sum(w for n, w in zip(names, weights) if n.startswith(prefix)) / total
                for g, prefix in groups.items()}

    balanced = shares(action_balanced_weights(names, actions, 1.0, styles, style_power=1.0))
    assert balanced == pytest.approx({"happy": 1 / 6, "sad": 1 / 6, "dm_walk": 1 / 6, "flip": 1 / 2})
    # style_power 0 is plain action balance: a walk style keeps its clips' share of the walk draws
    plain = action_balanced_weights(names, actions, 1.0)
    assert action_balanced_weights(names, actions, 1.0, styles, style_power=0.0) == pytest.approx(plain)
    assert shares(plain) == pytest.approx({"happy": 8 / 24, "sad": 2 / 24, "dm_walk": 2 / 24, "flip": 1 / 2})
    # without action balance, the styles of an action still share its (clip-count) share equally
    uniform = shares(action_balanced_weights(names, actions, 0.0, styles, style_power=1.0))
    assert uniform == pytest.approx({"happy": 4 / 14, "sad": 4 / 14, "dm_walk": 4 / 14, "flip": 2 / 14})


def test_style_balance_needs_action_balance_and_style_labels(tmp_path):
    from motiongpt.lm.training import LMConfigError, LMTrainingConfig, read_style_labels

    with pytest.raises(LMConfigError, match="needs action_balance"):
        LMTrainingConfig(style_balance=1.0)
    with pytest.raises(LMConfigError, match="styles.json"):
        read_style_labels(tmp_path)
    (tmp_path / "styles.json").write_text('{"bn-walk-happy": "happy"}')
    assert read_style_labels(tmp_path) == {"bn-walk-happy": "happy"}


def test_task_weights_draw_each_class_of_subtask_as_often_as_asked():
    from collections import Counter

    import numpy as np

    from motiongpt.lm.dataset import EncodedClip, ExampleSampler
    from motiongpt.lm.templates import PromptFiller, TemplateTask
    from motiongpt.lm.vocabulary import MotionVocabulary

    clips = [EncodedClip("walk0", ("a person walks",), (np.arange(6),))]
    t2m = TemplateTask("t2m", "t", "t2m", ("Generate motion: <Caption_Placeholder>",), ("<Motion_Placeholder>",))
    m2t = TemplateTask("m2t", "m", "m2t", ("Describe <Motion_Placeholder>",), ("<Caption_Placeholder>",))
    filler = PromptFiller(MotionVocabulary(8))
    weighted = ExampleSampler(clips, [t2m, m2t], filler, seed=0, task_weights=[1.0, 3.0])
    share = Counter(weighted.sample().task for _ in range(4000))["m2t/m"] / 4000
    assert 0.72 < share < 0.78  # 3 of 4
    plain = ExampleSampler(clips, [t2m, m2t], filler, seed=0)
    assert 0.45 < Counter(plain.sample().task for _ in range(4000))["m2t/m"] / 4000 < 0.55
    for bad in ([1.0], [-1.0, 1.0], [0.0, 0.0]):
        with pytest.raises(ValueError, match="weight per task"):
            ExampleSampler(clips, [t2m, m2t], filler, task_weights=bad)
    assert LMTrainingConfig(task_weights={"m2t": 3}).task_weights == {"m2t": 3.0}
    from motiongpt.lm.training import task_draw_weights

    assert task_draw_weights([t2m, m2t, t2m], {"m2t": 3.0}) == [1.0, 3.0, 1.0]
    assert task_draw_weights([t2m, m2t], {}) is None
    with pytest.raises(LMConfigError, match="do not have: m2tt"):
        task_draw_weights([t2m, m2t], {"m2tt": 3.0})
    for bad in ({"m2t": -1}, {"m2t": "often"}, ["m2t"]):
        with pytest.raises(LMConfigError, match="task_weights"):
            LMTrainingConfig(task_weights=bad)


def test_action_balanced_sampling_and_caption_dropout():
    import random
    from collections import Counter

    import numpy as np

    from motiongpt.data.action_balance import action_balanced_weights
    from motiongpt.lm.dataset import EncodedClip, ExampleSampler
    from motiongpt.lm.templates import PromptFiller, TemplateTask
    from motiongpt.lm.vocabulary import MotionVocabulary

    names = [f"walk{i}" for i in range(30)] + ["flip0", "flip1"]
    actions = {n: ("walk" if n.startswith("walk") else "backflip") for n in names}
    weights = action_balanced_weights(names, actions, power=1.0)
    assert sum(w for n, w in zip(names, weights) if actions[n] == "walk") == pytest.approx(1.0)
    assert sum(w for n, w in zip(names, weights) if actions[n] == "backflip") == pytest.approx(1.0)
    assert action_balanced_weights(names, actions, power=0.0) == [1.0] * len(names)
    clips = [EncodedClip(n, (f"caption of {actions[n]}",), (np.arange(6),)) for n in names]
    task = TemplateTask("t2m", "t", "t2m", ("Generate motion: <Caption_Placeholder>",), ("<Motion_Placeholder>",))
    sampler = ExampleSampler(clips, [task], PromptFiller(MotionVocabulary(8)), seed=0, clip_weights=weights,
                             caption_dropout=0.5)
    examples = [sampler.sample() for _ in range(2000)]
    share = Counter("backflip" in e.request for e in examples)[True] / len(examples)
    assert 0.45 < share < 0.55  # 2 of 32 clips, half of the draws
    dropped = [e for e in examples if e.request not in e.input]
    assert 0.4 < len(dropped) / len(examples) < 0.6
    assert all(e.request.startswith("caption of") for e in examples)
    with pytest.raises(ValueError, match="weight"):
        ExampleSampler(clips, [task], PromptFiller(MotionVocabulary(8)), clip_weights=[1.0])
    random.seed(0)
