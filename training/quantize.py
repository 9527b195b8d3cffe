"""INT8 variant of the mask classifier: NNCF post-training quantization of the shipped FP16 IR."""
from __future__ import annotations

from pathlib import Path

import nncf
import numpy as np
import openvino as ov

from kiosk.vision.models import CLASSIFIER_FILES
from kiosk.vision.runtime import core

INT8_NAME = CLASSIFIER_FILES["int8"]


def quantize(xml: Path, calibration_crops: np.ndarray) -> Path:
    """Quantizes the IR at xml, activation ranges from calibration_crops (uint8 BGR NHWC); writes INT8_NAME
    beside it."""
    dataset = nncf.Dataset(list(calibration_crops), lambda crop: crop[None])
    quantized = nncf.quantize(core().read_model(xml), dataset, subset_size=len(calibration_crops))
    out = xml.with_name(INT8_NAME)
    ov.save_model(quantized, out, compress_to_fp16=False)
    return out
