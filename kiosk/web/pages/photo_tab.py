"""The admin page's Check a photo tab (the seed article's demo, made fast: kiosk.web.photo_check)."""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from kiosk.types import Text
from kiosk.vision.image_input import UnreadableImage
from kiosk.web.photo_check import PhotoResult, give_back_memory
from kiosk.web.service import KioskService

DISMISS_NOTICES = "(...inputs) => { document.querySelectorAll('.toast-close').forEach(b => b.click()); return inputs; }"


def photo_tab(service: KioskService) -> None:
    tr = service.texts
    gr.Markdown(tr("Upload a photo: faces are boxed green (mask), red (no mask) or amber (worn wrongly)."))
    with gr.Row():
        with gr.Column():
            upload = gr.File(label=tr("photo"), file_count="single", type="filepath", elem_classes="photo-upload")
        with gr.Column():
            status = gr.Markdown(elem_classes="photo-status")
            # no fullscreen button (Gradio labels it in English only): the result is display-sized already
            annotated = gr.Image(label=tr("result"), format="jpeg", interactive=False, buttons=["download"],
                                 elem_classes="photo-result")
            report = gr.JSON(label=tr("faces"), elem_classes="photo-report")
    # hidden (live.css): the page puts "digest name" of a photo the kiosk has answered before here and clicks
    known = gr.Textbox(elem_classes="photo-known", show_label=False, container=False)
    answer_known = gr.Button(elem_classes="photo-known-go")

    def answered(name: str, result: PhotoResult, started: float):
        took = (time.perf_counter() - started) * 1000
        source = Text("served from cache" if result.cached else "analysed")
        width, height = result.report["width"], result.report["height"]
        return (tr("{name}: {summary}. {source} at {width}x{height} in {took:.0f} ms", name=name,
                   summary=result.summary(tr), source=source, width=width, height=height, took=took),
                str(result.picture), {**result.report, "cached": result.cached})

    def check_photo(path: str | None):
        """Streams its progress; the upload box is emptied at the end, ready for the next photo."""
        if not path:
            yield tr("Choose a photo first."), gr.skip(), gr.skip(), gr.skip()
            return
        name = Path(path).name
        started = time.perf_counter()
        try:
            # not deleted here: Gradio stores uploads by content, so the same photo sent twice at once is one file
            # that both requests read; delete_cache removes uploads within minutes
            image, key = service.photos.read(Path(path).read_bytes())
        except (UnreadableImage, OSError) as error:
            yield tr("**Error:** {name}: {error}", name=name, error=error), None, None, None
            return
        result = service.photos.cached(key)  # a repeat is answered at once: no progress to stream
        if result is None:
            height, width = image.shape[:2]
            yield (tr("Looking for faces in {name} ({width}x{height})…", name=name, width=width, height=height),
                   gr.skip(), gr.skip(), gr.skip())
            result = service.photos.analyse(image, key, name)
        yield *answered(name, result, started), None
        del image  # the photo's pixels: freed now, and given back to the system
        give_back_memory()

    def check_known(value: str):
        """A photo whose bytes the kiosk read before, named by their digest: no upload, no queue, no decode."""
        started = time.perf_counter()
        digest, _, name = value.partition(" ")
        result = service.photos.by_digest(digest)
        if result is None:  # gone from the cache since the page asked
            return tr("**Error:** {name}: {error}", name=name, error=Text("no longer known; choose it again")), \
                None, None
        return answered(name, result, started)

    # a new photo clears what the previous one left on screen (Gradio's notice of a file too large)
    upload.upload(check_photo, upload, [status, annotated, report, upload], api_name="check_photo",
                  js=DISMISS_NOTICES)
    answer_known.click(check_known, known, [status, annotated, report], api_name="check_known", queue=False,
                       show_progress="hidden", js=DISMISS_NOTICES)
