"""The kiosk screen's sounds, made at install from offline sources: tones from numpy, prompts spoken by Debian's
espeak-ng (rendered once to WAV). Without espeak-ng the STOP files hold the tone alone, and `models build` says so.

Files (16-bit mono WAV): pass.wav (chime), stop-no_mask-<lang>.wav and stop-incorrect-<lang>.wav (tone + prompt).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from kiosk.config import Config

RATE = 22050
PROMPTS = {
    "en": {"no_mask": "Please wear a mask.", "incorrect": "Please wear your mask over your nose and mouth."},
    "zh": {"no_mask": "请佩戴口罩。", "incorrect": "请正确佩戴口罩，遮住口鼻。"},
}
VOICES = {"en": "en", "zh": "cmn"}
NAME = re.compile(r"^(pass|stop-(no_mask|incorrect)-(en|zh))\.wav$")
MANIFEST = "sounds.json"


def sounds_dir(config: Config) -> Path:
    """Built beside the models: made at install, read-only at run time."""
    return config.models_dir() / "sounds"


def _notes(frequencies: list[float], seconds: float, volume: float) -> np.ndarray:
    """Notes one after the other, each with a soft attack and an exponential decay."""
    t = np.arange(int(RATE * seconds)) / RATE
    envelope = np.minimum(t / 0.01, 1.0) * np.exp(-t * 5)
    parts = [volume * envelope * (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)) / 1.3
             for f in frequencies]
    return np.concatenate(parts)


def chime() -> np.ndarray:
    return _notes([1318.5, 1046.5], 0.35, 0.5)  # E6 then C6: a friendly two-tone


def stop_tone() -> np.ndarray:
    beep = _notes([440.0], 0.18, 0.6)
    return np.concatenate([beep, np.zeros(int(RATE * 0.06)), beep, np.zeros(int(RATE * 0.15))])


def speak(text: str, voice: str) -> np.ndarray | None:
    """The prompt spoken by espeak-ng at RATE, or None when espeak-ng is not installed."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run([espeak, "-v", voice, "-s", "150", "-w", str(path), text], check=True, capture_output=True)
        with wave.open(str(path)) as speech:
            rate, samples = speech.getframerate(), np.frombuffer(speech.readframes(speech.getnframes()), np.int16)
    if rate != RATE:  # espeak-ng renders at 22050 Hz; resample anyway if that ever changes
        positions = np.linspace(0, len(samples) - 1, int(len(samples) * RATE / rate))
        return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32) / 32768
    return samples.astype(np.float32) / 32768


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())


def build_sounds(folder: Path) -> str:
    """Makes every file (again only when the prompts or espeak-ng's presence changed); returns a line to print."""
    spoken = shutil.which("espeak-ng") is not None
    wanted = {"prompts": PROMPTS, "spoken": spoken}
    manifest = folder / MANIFEST
    if manifest.exists() and json.loads(manifest.read_text()) == wanted:
        return f"sounds: up to date in {folder}"
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "pass.wav", chime())
    for language, prompts in PROMPTS.items():
        for violation, text in prompts.items():
            speech = speak(text, VOICES[language])
            samples = stop_tone() if speech is None else np.concatenate([stop_tone(), speech])
            write_wav(folder / f"stop-{violation}-{language}.wav", samples)
    manifest.write_text(json.dumps(wanted, ensure_ascii=False, indent=1))
    if not spoken:
        return (f"sounds: made in {folder} WITHOUT spoken prompts (espeak-ng is not installed: "
                "sudo apt-get install espeak-ng, then run this again)")
    return f"sounds: made in {folder} (chime, tones and prompts spoken by espeak-ng)"
