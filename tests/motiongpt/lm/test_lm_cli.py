"""`motiongpt generate` and `motiongpt train lm` argument handling through the real CLI entry point."""
import numpy as np

from motiongpt.cli import main


def test_generate_writes_joints_features_caption_and_animation(tiny_motiongpt, tmp_path, capsys):
    tiny_motiongpt.save_pretrained(tmp_path / "model")
    out = tmp_path / "out"
    code = main(["generate", "walk forward, then wave", "--model", str(tmp_path / "model"), "--out", str(out),
                 "--seconds", "1.2", "--seed", "3"])
    assert code == 0
    joints = np.load(out / "joints.npy")
    features = np.load(out / "features.npy")
    assert joints.ndim == 3 and joints.shape[1:] == (22, 3)
    assert features.shape == (joints.shape[0], 263)
    assert joints.shape[0] == 4 * (6 + 4 + 6)  # two steps of 1.2 s joined by a 0.8 s transition
    assert (out / "command.txt").read_text().strip() == "walk forward, then wave"
    # caption.txt: the model's description of the codes it generated, not the command
    codes = np.load(out / "codes.npy")
    assert (out / "caption.txt").read_text().strip() == tiny_motiongpt.captions_for_codes([codes])[0].strip()
    assert (out / "animation.gif").stat().st_size > 0


def test_generate_names_the_caption_each_step_was_generated_from(tiny_motiongpt, tmp_path, capsys):
    """With rephrase: meaning, steps.json gives each step's text and the training caption it was generated from."""
    import json

    import yaml

    from motiongpt.lm.command_meaning import MeaningIndex
    from motiongpt.lm.sentence_encoder import SentenceEncoder, resolve_encoder_folder

    folder = tiny_motiongpt.save_pretrained(tmp_path / "model")
    encoder = SentenceEncoder(resolve_encoder_folder("all-MiniLM-L6-v2"))
    MeaningIndex.build({"walk": ["a person walks forward.", "walk ahead"], "wave_right_hand": ["wave hello"]},
                       encoder.encode, "all-MiniLM-L6-v2").save(folder)
    out = tmp_path / "out"
    args = ["generate", "stroll ahead, then wave", "--model", str(folder), "--out", str(out), "--seconds", "1.2",
            "--no-render"]
    assert main(args) == 0
    assert "generated_from" not in json.loads((out / "steps.json").read_text())[0]  # the folder does not rephrase
    manifest = yaml.safe_load((folder / "motiongpt.yaml").read_text())
    manifest.setdefault("text_to_motion", {})["rephrase"] = "meaning"
    (folder / "motiongpt.yaml").write_text(yaml.safe_dump(manifest))
    assert main(args) == 0
    steps = json.loads((out / "steps.json").read_text())
    assert [(s["text"], s["generated_from"]) for s in steps] == [("stroll ahead", "walk ahead"), ("wave", "wave hello")]
    assert [s["played_speed"] for s in steps] == [1.0, 1.0]
    # a folder that plays speeds: a step naming one is generated without its speed words, played at the factor
    manifest["text_to_motion"]["speed_factors"] = {"slow": 0.7, "fast": 1.4}
    (folder / "motiongpt.yaml").write_text(yaml.safe_dump(manifest))
    args[1] = "stroll ahead quickly, then wave"
    assert main(args) == 0
    steps = json.loads((out / "steps.json").read_text())
    assert [(s["text"], s["generated_from"], s["played_speed"]) for s in steps] == [
        ("stroll ahead quickly", "walk ahead", 1.4), ("wave", "wave hello", 1.0)]
    assert steps[0]["end_frame"] - steps[0]["first_frame"] == 24  # --seconds 1.2: 1.4 x 1.2 s generated, played in it
    import numpy as np
    assert np.load(out / "codes.npy").size == 8 + 4 + 6  # round(6 x 1.4) codes, the 0.8 s in-between, the wave


def test_generate_guidance_reaches_the_model(tiny_motiongpt, tmp_path, capsys):
    tiny_motiongpt.save_pretrained(tmp_path / "model")
    out = tmp_path / "out"
    args = ["generate", "walk forward", "--model", str(tmp_path / "model"), "--out", str(out), "--seconds", "1.2",
            "--seed", "3", "--no-render"]
    assert main(args + ["--guidance", "3"]) == 0
    expected = tiny_motiongpt.command("walk forward", seconds_per_step=1.2, seed=3, guidance=3.0)
    np.testing.assert_array_equal(np.load(out / "codes.npy"), expected.codes)
    assert main(args + ["--guidance", "0.5"]) == 2
    assert "guidance" in capsys.readouterr().err


def test_generate_bad_model_folder_is_one_line_error(tmp_path, capsys):
    code = main(["generate", "walk", "--model", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "motiongpt.yaml" in capsys.readouterr().err


def test_train_rejects_config_of_other_stage(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("stage: pretrain\n")
    assert main(["train", "lm", "--stage", "instruct", "--config", str(config)]) == 2
    assert "not 'instruct'" in capsys.readouterr().err
