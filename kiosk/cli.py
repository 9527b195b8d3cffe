"""The `mask-kiosk` command."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from kiosk.config import ConfigError, load_config

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def image_paths(arguments: list[str]) -> list[Path]:
    """Files as given; folders expand to their image files, sorted."""
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            paths.append(path)
    return paths


def cmd_detect(args: argparse.Namespace) -> int:
    from kiosk.vision.analyzer import load_analyzer
    from kiosk.vision.image_input import UnreadableImage, decode_checked, image_limits
    config = load_config(args.config)
    analyzer, limits = load_analyzer(config), image_limits(config)
    failed = False
    for path in image_paths(args.paths):
        image, reason = None, ""
        try:
            image = decode_checked(path.read_bytes(), limits)
        except OSError as exc:
            reason = exc.strerror or str(exc)
        except UnreadableImage as exc:
            reason = str(exc)
        if image is None:
            failed = True
            if args.json:
                print(json.dumps({"image": str(path), "error": reason}), flush=True)
            else:
                print(f"{path}: error: {reason}", file=sys.stderr)
            continue
        faces = analyzer.analyse(image)
        if args.json:
            record = {"image": str(path), "width": image.shape[1], "height": image.shape[0],
                      "faces": [face.to_json() for face in faces]}
            print(json.dumps(record), flush=True)
        else:
            described = ", ".join(f"{f.label or 'face'} {f.score:.2f} {[round(float(v)) for v in f.box]}"
                                  for f in faces)
            print(f"{path}: {len(faces)} face(s){': ' + described if faces else ''}")
    return 1 if failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from kiosk.vision.analyzer import load_analyzer, load_live_analyzer
    from kiosk.vision.evaluate import VocError, evaluate, format_report, read_voc
    from kiosk.vision.image_input import image_limits
    config = load_config(args.config)
    if args.detector:
        config = config.replaced(detector={"model": args.detector})
    if args.live not in (None, "config"):
        config = config.replaced(detector={"input_size": parse_size(args.live)})
    try:
        items = read_voc(Path(args.folder))
        if args.only:
            items = only_listed(items, Path(args.only))
        if args.walk_up:
            return walk_up(items, config, args)
        analyzer = load_live_analyzer(config) if args.live else load_analyzer(config)
        report = evaluate(analyzer, items, args.min_size, image_limits(config))
    except VocError as exc:
        print(f"eval: {exc}", file=sys.stderr)
        return 2
    report["detector"] = analyzer.detector.describe()
    report["settings"] = "live" if args.live else "photo"
    if args.json:
        print(json.dumps(report))
    else:
        print(format_report(report, f"{args.folder}: {report['images']} photos, faces >= {args.min_size:g} px, "
                                    f"{report['detector']} ({report['settings']} settings)"))
    return 0


def walk_up(items: list, config, args: argparse.Namespace) -> int:
    """`eval --walk-up`: each photo as a person walking up to the kiosk, through the live pipeline; per person."""
    from kiosk.bench.walkup import clips_of, play, report
    started = time.perf_counter()
    clips = clips_of(items, config, args.min_size)
    result = report(play(clips, config))
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    print(f"{args.folder}: {len(clips)} walk-up clips, persons (faces >= {args.min_size:g} px) "
          f"{result.persons}, found {result.found}, in {time.perf_counter() - started:.0f} s")
    print(f"  masks passed {result.masks_passed:.4f}, bare faces stopped {result.bare_stopped:.4f}, "
          f"worn wrongly stopped {result.incorrect_stopped:.4f}, no verdict {result.undecided}")
    print(f"  time to verdict p50 {result.seconds_p50:.2f} s, p90 {result.seconds_p90:.2f} s")
    if result.bare_passed:
        print(f"  bare faces passed: {', '.join(result.bare_passed)}")
    if result.bare_shown_mask:
        print(f"  bare faces shown `mask` on some frame: {', '.join(result.bare_shown_mask)}")
    return 0


def only_listed(items: list, listing: Path) -> list:
    """The annotated images whose file name is in the listing (VocError when it cannot be read)."""
    from kiosk.vision.evaluate import VocError
    try:
        names = {line.strip() for line in listing.read_text(encoding="utf-8").splitlines() if line.strip()}
    except (OSError, UnicodeDecodeError) as exc:
        raise VocError(f"{listing}: cannot be read ({exc})") from None
    return [item for item in items if item.image.name in names]


def parse_size(text: str) -> list[int]:
    """'640x480' -> [640, 480]; the config check says what is wrong with the numbers."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"detector.input_size: {text!r} is not WIDTHxHEIGHT") from None
    return [width, height]


def cjk_fonts() -> list[str]:
    """Font families that cover Simplified Chinese, as fontconfig (which Chromium uses) sees them."""
    import shutil
    import subprocess
    if shutil.which("fc-list") is None:
        return []
    listed = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=False)
    families = {line.split(",")[0].strip() for line in listed.stdout.splitlines() if line.strip()}
    return sorted(families, key=lambda family: ("SC" not in family, family))  # Simplified Chinese first


def cmd_check(args: argparse.Namespace) -> int:
    from kiosk.vision.analyzer import build_analyzer, describe_setup
    from kiosk.vision.models import load_classifier, load_detector
    config = load_config(args.config)
    settings = config.settings_path()
    print(f"config: {config.path} (valid){f', with saved settings {settings}' if settings.exists() else ''}")
    if config.settings_problem:
        print(f"WARNING: {config.settings_problem}")
    started = time.perf_counter()
    detector, classifier = load_detector(config), load_classifier(config)
    build_analyzer(config, classifier)  # the photo check's models too: `run` then finds every one in the cache
    for what, value in describe_setup(config, detector, classifier):
        print(f"{what}: {value}")
    print(f"models compiled in {time.perf_counter() - started:.2f} s")
    from kiosk.live.selftest import run_self_test
    self_test = run_self_test(detector, classifier, config.decision, config.tracker)
    print(f"self-test (golden faces through detector, classifier and decision): {self_test.detail}")
    print(f"admin password: {'set' if config.admin.password_hash else 'NOT SET (mask-kiosk set-password)'}")
    cjk = cjk_fonts()
    if "zh" in config.display.language and not cjk:
        print(f"WARNING: display.language is {config.display.language} but no Chinese font is installed: the "
              "screen would show empty boxes (sudo apt-get install fonts-noto-cjk)")
    else:
        print(f"Chinese font: {cjk[0] if cjk else 'none (only needed for display.language = zh)'}")
    from kiosk.web.tls import certificate, fingerprint
    pair = certificate(config, make=False)
    if pair is None:
        print("admin over HTTPS: off (web.tls_port = 0): the admin page is for this device only")
    elif pair[0].is_file():
        print(f"admin over HTTPS: port {config.web.tls_port}, certificate {pair[0]} (SHA-256 {fingerprint(pair[0])})")
    else:
        print(f"admin over HTTPS: port {config.web.tls_port}; a self-signed certificate is made at the first start")
    return 0 if self_test.ok else 1


def cmd_models_build(args: argparse.Namespace) -> int:
    from kiosk.vision.model_build import build_detector_models
    config = load_config(args.config)
    built = build_detector_models(config.models_dir(), force=args.force)
    print(f"face detector IR in {config.models_dir()}: {'built' if built else 'already current'}")
    from kiosk.web.sounds import build_sounds, sounds_dir
    print(build_sounds(sounds_dir(config)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from kiosk.app import run
    if args.port is not None and not 1 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: not a port number (1-65535)")
    return run(load_config(args.config), source=args.source, host=args.host, port=args.port)


def cmd_set_password(args: argparse.Namespace) -> int:
    import getpass

    from kiosk.config import save_settings
    from kiosk.web.passwords import hash_password, password_problem
    config = load_config(args.config)
    role = "viewer" if args.viewer else "admin"
    password = sys.stdin.readline().rstrip("\n") if args.stdin else getpass.getpass(f"new {role} password: ")
    problem = password_problem(password)
    if problem:  # said before asking again
        print(f"error: {problem}", file=sys.stderr)
        return 1
    if not args.stdin and getpass.getpass("again: ") != password:
        print("error: the two passwords differ", file=sys.stderr)
        return 1
    key = "viewer_password_hash" if args.viewer else "password_hash"
    save_settings(config, {"admin": {key: hash_password(password)}})
    print(f"{role} password saved (hashed) in {config.settings_path()}; a running kiosk uses it at the next login")
    return 0


def cmd_certificate(args: argparse.Namespace) -> int:
    from kiosk.web.tls import certificate, fingerprint
    config = load_config(args.config)
    pair = certificate(config)
    if pair is None:
        print("HTTPS is off (web.tls_port = 0)")
        return 0
    print(f"certificate: {pair[0]}\nkey: {pair[1]}\nSHA-256 fingerprint: {fingerprint(pair[0])}")
    print(f"the admin page: https://<this box>:{config.web.tls_port}/admin/ (check the fingerprint on first visit)")
    return 0


def cmd_config_defaults(args: argparse.Namespace) -> int:
    from kiosk.config import default_toml
    print(default_toml(), end="")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.target is None:
        args.parser.error(f"say what to measure: {', '.join(BENCH_TARGETS)}")
    from kiosk.bench import benches as bench
    return bench.run(args.target, load_config(args.config), args)


BENCH_TARGETS = ["detector", "classifier", "pipeline", "ui", "boot", "photo", "memory", "review"]


def ask_which(parser: argparse.ArgumentParser, choices: argparse._SubParsersAction):
    """For a command given without its sub-command: one line naming the choices, and exit 2 (as argparse does)."""
    def ask(_args: argparse.Namespace) -> int:
        parser.error(f"say which: {', '.join(choices.choices)}")
    return ask


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mask-kiosk", description="Offline face-mask checkpoint")
    parser.add_argument("--config", help="config TOML (default: $MASK_KIOSK_CONFIG or config/kiosk.toml)")
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    detect = commands.add_parser("detect", help="find faces and masks in image files or folders")
    detect.add_argument("paths", nargs="+")
    detect.add_argument("--json", action="store_true", help="one JSON object per image and line")
    detect.set_defaults(func=cmd_detect)

    evaluation = commands.add_parser(
        "eval", help="face recall, AP and speed on labelled photos (PASCAL-VOC folder)",
        description="Labels: with_mask, without_mask, mask_weared_incorrect or with_incorrect_mask. Faces below "
                    "--min-size count neither as misses nor as false positives. Exit 2 when the folder is not VOC.")
    evaluation.add_argument("folder", help="VOC folder: Annotations/ (or annotations/) and JPEGImages/ (or images/)")
    evaluation.add_argument("--min-size", type=float, default=32.0, help="smallest face height counted, px (32)")
    evaluation.add_argument("--detector", choices=["retinaface", "blazeface"], help="instead of detector.model")
    evaluation.add_argument("--live", nargs="?", const="config", metavar="WxH",
                            help="as the live pipeline sees frames: one pass at detector.input_size (or WxH), "
                                 "detector.min_score")
    evaluation.add_argument("--only", metavar="LIST",
                            help="only the images named in this file, one name per line (for example "
                                 "models_ir/mask_classifier/validation_photos.txt: the classifier's held-out photos)")
    evaluation.add_argument("--walk-up", action="store_true",
                            help="per person: each photo as a walk-up clip through the live pipeline "
                                 "(kiosk.bench.walkup), the final verdict of each face's track and its time")
    evaluation.add_argument("--json", action="store_true", help="one JSON object")
    evaluation.set_defaults(func=cmd_eval)

    run = commands.add_parser("run", help="start the kiosk: camera, pipeline, kiosk screen and admin page")
    run.add_argument("--source", help="camera override: device, video file or URL")
    run.add_argument("--host", help="listen address (default: web.host)")
    run.add_argument("--port", type=int, help="port (default: web.port)")
    run.set_defaults(func=cmd_run)

    password = commands.add_parser("set-password", help="set the admin (or viewer) password (stored hashed)")
    password.add_argument("--stdin", action="store_true", help="read it from standard input")
    password.add_argument("--viewer", action="store_true",
                          help="the viewer account's (admin.viewer_user): live view, events and counts only")
    password.set_defaults(func=cmd_set_password)

    check = commands.add_parser("check", help="validate config, models and device")
    check.set_defaults(func=cmd_check)

    certificate = commands.add_parser("certificate", help="make (once) and show the admin page's TLS certificate")
    certificate.set_defaults(func=cmd_certificate)

    config_parser = commands.add_parser("config", help="the configuration schema")
    config_commands = config_parser.add_subparsers(title="what", metavar="{defaults}")
    config_parser.set_defaults(func=ask_which(config_parser, config_commands))
    defaults = config_commands.add_parser("defaults", help="print kiosk.toml with every default and its help")
    defaults.set_defaults(func=cmd_config_defaults)

    models = commands.add_parser("models", help="model files")
    models_commands = models.add_subparsers(title="what", metavar="{build}")
    models.set_defaults(func=ask_which(models, models_commands))
    build = models_commands.add_parser("build", help="fetch and convert third-party models")
    build.add_argument("--force", action="store_true")
    build.set_defaults(func=cmd_models_build)

    bench_parser = commands.add_parser("bench", help="measure latency (prints figures)")
    bench_parser.add_argument("target", choices=BENCH_TARGETS, metavar="{" + ",".join(BENCH_TARGETS) + "}",
                              nargs="?", help="what to measure")
    bench_parser.add_argument("--frames", type=int, default=200, help="detector/classifier: frames per case")
    bench_parser.add_argument("--source",
                              help="pipeline: video file or camera (default: generated 640x480 and 1280x720)")
    bench_parser.add_argument("--seconds", type=float, default=8.0, help="pipeline, ui: measuring time")
    bench_parser.add_argument("--fps", type=float, default=30.0, help="pipeline: frame rate of the generated sources")
    bench_parser.add_argument("--scene", choices=("moving", "empty", "walk-up"), default="moving",
                              help="pipeline: a face moving across the frame all the time (default); the "
                                   "background alone; or a person appearing after an idle spell, again and again")
    bench_parser.add_argument("--outputs", action="store_true",
                              help="pipeline: each source without, then with the record, a serial relay and MQTT")
    bench_parser.add_argument("--chromium", default="/usr/bin/chromium", help="ui, photo: the browser to drive")
    bench_parser.add_argument("--runs", type=int, default=3, help="boot: starts of each kind")
    bench_parser.add_argument("--checks", type=int, default=500, help="memory: photo checks, each from a new session")
    bench_parser.add_argument("--idle", type=float, default=60.0, help="memory: idle seconds before the last reading")
    bench_parser.add_argument("--events", type=int, default=100_000, help="review: events in the year's record")
    bench_parser.set_defaults(func=cmd_bench, parser=bench_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # the service (run) tells its journal how it started; other commands speak only when asked (-v)
    logging.basicConfig(level=logging.INFO if args.verbose or args.command == "run" else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # one line for the operator; details with -v
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
