"""Face detector models behind one contract (`base.FaceDetector`)."""
