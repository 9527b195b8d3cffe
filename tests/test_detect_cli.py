import json
import subprocess
import sys

from conftest import shared_dataset

from kiosk.bench.samples import grace_hopper_path


def run_detect(*arguments):
    return subprocess.run([sys.executable, "-m", "kiosk", "detect", "--json", *map(str, arguments)],
                          capture_output=True, text=True, timeout=300)


def test_detect_json_and_bad_file_does_not_stop_the_rest(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg")
    missing = tmp_path / "missing.png"
    result = run_detect(broken, missing, grace_hopper_path())
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(broken), str(missing), str(grace_hopper_path())]
    assert lines[0]["error"].startswith("not a readable image")
    assert "error" in lines[1]
    photo = lines[2]
    assert (photo["width"], photo["height"]) == (512, 600)
    assert len(photo["faces"]) == 1
    face = photo["faces"][0]
    assert set(face) == {"box", "score", "label", "label_score"}
    assert 0.4 < face["score"] <= 1


def test_detect_folder_of_masked_faces_finds_most(tmp_path):
    source = shared_dataset("ilc2021-facecrops") / "with_mask"
    sample = sorted(source.iterdir())[:50]
    for image in sample:
        (tmp_path / image.name).symlink_to(image)
    result = run_detect(tmp_path)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(sample) == 50
    found = sum(1 for record in records if record["faces"])
    assert found / len(records) >= 0.8, f"faces found in {found}/50"
