import pandas as pd

from depnet_tf.cli.main import main
from tests.data.test_manifest import make_avec2014
from tests.faces.videos import write_blank_video, write_face_video


def test_faces_command_reports_skips_and_exits_non_zero(tmp_path, capsys):
    good = write_face_video(tmp_path / "good.avi", num_frames=4)
    blank = write_blank_video(tmp_path / "blank.avi")
    out = tmp_path / "faces"
    code = main(["faces", str(good), str(blank), "--out", str(out), "--size", "32"])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 videos processed (4/4 sampled frames with a face)" in captured.out
    assert "skipped" in captured.err and "blank.avi: no face found" in captured.err
    assert main(["faces", str(good), "--out", str(out), "--size", "32"]) == 0
    assert "1 already done" in capsys.readouterr().out


def test_manifest_command(tmp_path, capsys):
    videos, labels = make_avec2014(tmp_path)
    output = tmp_path / "manifest.csv"
    assert (
        main(
            [
                "manifest",
                "avec2014",
                str(videos),
                "--labels",
                str(labels),
                "--faces",
                str(tmp_path / "faces"),
                "-o",
                str(output),
            ]
        )
        == 0
    )
    assert "6 videos" in capsys.readouterr().out
    assert len(pd.read_csv(output)) == 6


def test_cache_command_with_bad_manifest_is_one_line(tmp_path, capsys):
    path = tmp_path / "m.csv"
    pd.DataFrame(
        [{"video_id": "v", "frames": "x", "label": "high", "split": "a", "subject": "s"}]
    ).to_csv(path, index=False)
    assert main(["cache", str(path), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "row 2: label 'high' is not a number" in err


def test_evaluate_names_an_unreadable_frame_in_one_line(tmp_path, capsys):
    from depnet_tf import DepNetConfig, build_depnet
    from tests.data.test_datasets import _manifest_with_a_broken_frame

    _, broken = _manifest_with_a_broken_frame(tmp_path, b"not an image")
    model = build_depnet(
        DepNetConfig(num_frames=3, image_size=32, branch_filters=2, hlf_channels=4, fc_units=8)
    )
    model.save(tmp_path / "model.keras")
    code = main(
        [
            "evaluate",
            str(tmp_path / "model.keras"),
            str(tmp_path / "m.csv"),
            "--split",
            "train",
            "--clips",
            "2",
            "-o",
            str(tmp_path / "out.csv"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    unreadable = "cannot decode this face image (not a PNG, JPEG, BMP or GIF file)"
    assert err == f"depnet evaluate: error: {broken}: {unreadable}"
    assert not (tmp_path / "out.csv").exists()
