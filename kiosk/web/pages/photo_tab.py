"""The admin page's Check a photo tab (the seed article's demo, made fast: kiosk.web.photo_check)."""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from kiosk.vision.image_input import UnreadableImage
from kiosk.web.photo_check import give_back_memory
from kiosk.web.service import KioskService

DISMISS_NOTICES = "(...inputs) => { document.querySelectorAll('.toast-close').forEach(b => b.click()); return inputs; }"


def photo_tab(service: KioskService) -> None:
    gr.Markdown("Upload a photo: faces are boxed green (mask), red (no mask) or amber (worn wrongly).")
    with gr.Row():
        with gr.Column():
            upload = gr.File(label="photo", file_count="single", type="filepath")
        with gr.Column():
            status = gr.Markdown(elem_classes="photo-status")
            annotated = gr.Image(label="result", format="jpeg", interactive=False, elem_classes="photo-result")
            report = gr.JSON(label="faces", elem_classes="photo-report")

    def check_photo(path: str | None):
        """Streams its progress; the upload box is emptied at the end, ready for the next photo."""
        if not path:
            yield "Choose a photo first.", gr.skip(), gr.skip(), gr.skip()
            return
        name = Path(path).name
        started = time.perf_counter()
        image = None
        try:
            # not deleted here: Gradio stores uploads by content, so the same photo sent twice at once is one file
            # that both requests read; delete_cache removes uploads within minutes
            data = Path(path).read_bytes()
            result = service.photos.cached(data)  # a repeat is answered at once: no progress to stream
            if result is None:
                yield f"Reading {name}…", gr.skip(), gr.skip(), gr.skip()
                image = service.photos.decode(data)
        except (UnreadableImage, OSError) as error:
            yield f"**Error:** {name}: {error}", None, None, None
            return
        if result is None:  # a new photo
            assert image is not None
            yield f"Looking for faces in {name} ({image.shape[1]}x{image.shape[0]})…", gr.skip(), gr.skip(), gr.skip()
            result = service.photos.analyse(data, image, name)
        took = (time.perf_counter() - started) * 1000
        source = "served from cache" if result.cached else "analysed"
        yield (f"{name}: {result.summary}. {source} in {took:.0f} ms",
               str(result.picture), {**result.report, "cached": result.cached}, None)
        del data, image  # the photo's pixels: freed now, and given back to the system
        give_back_memory()

    # a new photo clears what the previous one left on screen (Gradio's notice of a file too large)
    upload.upload(check_photo, upload, [status, annotated, report, upload], api_name="check_photo",
                  js=DISMISS_NOTICES)
