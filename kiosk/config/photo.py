from __future__ import annotations

from pydantic import Field

from kiosk.config.base import Section


class PhotoConfig(Section):
    """Still photos (detect, eval, "check a photo", training): the photo as it is at input_size, and a context
    pass at half that size with a black border, which sees close-ups whose face fills or runs off the photo."""

    input_size: int = Field(960, ge=256, le=2048, title="photo input (px)",
                            description="RetinaFace's input for the first pass (square, long side)")
    padding: float = Field(0.25, ge=0.0, le=2.0, title="context border",
                           description="border of the context pass, times the long side; 0: one pass only")
    min_score: float = Field(0.4, ge=0.05, le=0.99, title="photo detection threshold",
                             description="faces scored lower are not faces")
    max_file_mb: float = Field(20.0, ge=0.1, le=1000, title="largest file (MB)",
                               description="images from outside (uploads, detect, eval) larger than this are "
                                           "refused (1 MB = 1,048,576 bytes, as browsers count)")
    max_megapixels: float = Field(40.0, ge=0.1, le=1000, title="largest image (megapixels)",
                                  description="images declaring more pixels are refused before decoding")
