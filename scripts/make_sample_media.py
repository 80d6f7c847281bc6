#!/usr/bin/env python3
"""Build the sample day that `lifelog demo` ingests: Saturday 2025-06-14 in Lisbon.

    python scripts/make_sample_media.py [--out sample_media/]

Everything is made from material we are free to redistribute: CC0 and public-domain photos
that ship inside the scikit-image wheel, pictures drawn here with Pillow (text in DejaVu Sans),
and narration spoken by espeak-ng. The outputs are committed, so only a rebuild needs espeak-ng
and the DejaVu fonts (`apt-get install espeak-ng fonts-dejavu-core`) and the ffmpeg binary inside
the imageio-ffmpeg wheel.

The build is deterministic: the same tool versions write byte-identical files (JPEG via
Pillow/libjpeg, x264 and ffmpeg's AAC encoder single-threaded with bitexact flags, espeak-ng
is itself deterministic). SOURCES.md, written by this script, records those versions.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import io
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import piexif
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# Lisbon in June is on WEST summer time, UTC+01:00; EXIF wants the offset as "+01:00".
TZ = timezone(timedelta(hours=1))
OFFSET = "+01:00"
DAY = "2025-06-14"
CAMERA_MAKE = "Lifelog"
CAMERA_MODEL = "Sample Phone 1"
SOFTWARE = "lifelog scripts/make_sample_media.py"

# espeak-ng settings chosen so that Whisper tiny.en transcribes the key words ("viewpoint", "tram",
# "custard tart", "Cafe Aurora", "keys", "kitchen table", "Sam", "sunset"), checked by hand.
# Faster speech or the en-gb voices lose "Aurora" and "Sam". No setting made tiny.en hear
# "pastel de nata" (it writes "pastel da da da"), hence the English "custard tart" beside it.
ESPEAK_VOICE = "en-us"
ESPEAK_SPEED = 120  # words per minute (espeak-ng's default is 175)
ESPEAK_GAP = 4  # extra pause between words, in units of 10 ms

VIDEO_SIZE = (640, 360)
VIDEO_FPS = 25
AUDIO_BITRATE = "64k"
JPEG_QUALITY = 88


@dataclass(frozen=True)
class Place:
    """A real place in or near Lisbon (WGS84 degrees)."""

    name: str
    lat: float
    lon: float

    @property
    def iso6709(self) -> str:
        # The form phones write into the QuickTime ©xyz atom, read back by FFmpeg as "location".
        return f"{self.lat:+08.4f}{self.lon:+09.4f}/"


HOME = Place("home, Alfama, Lisbon", 38.7113, -9.1289)
CAFE = Place("Café Aurora (fictional café), Largo do Chiado, Lisbon", 38.7107, -9.1426)
VIEWPOINT = Place("viewpoint at Castelo de São Jorge, Lisbon", 38.7139, -9.1334)
SCIENCE_CENTRE = Place("Pavilhão do Conhecimento science centre, Parque das Nações, Lisbon", 38.7626, -9.0953)
BEACH = Place("Praia da Ribeira beach, Cascais", 38.6968, -9.4207)


@dataclass(frozen=True)
class SampleFile:
    """One file of the sample day and what a reader should be able to learn from it."""

    name: str
    kind: str  # "photo" | "video" | "audio"
    taken: datetime  # local time, tz-aware
    place: Place
    shows: str  # what is in it, in words (the answer key for the demo)
    source: str  # where each ingredient comes from, with its licence
    says: str = ""  # spoken words, for video and audio


def _t(hhmmss: str) -> datetime:
    return datetime.fromisoformat(f"{DAY}T{hhmmss}").replace(tzinfo=TZ)


SKIMAGE = "scikit-image {ver} wheel, skimage/data/{file}"

VIDEO_SCENE_1_S = 8.0  # the hard cut from the viewpoint to the coffee happens here
VIDEO_SCENE_2_S = 7.6
VIDEO_LINES = [  # (start second, sentence): the first two over the viewpoint, the third over the coffee
    (0.4, "Walking up to the viewpoint this morning."),
    (4.7, "The tram is full today."),
    (VIDEO_SCENE_1_S + 0.3, "I bought a custard tart, a pastel de nata, at Cafe Aurora."),
]
VOICE_NOTE = (
    "Note to self: I left my keys on the kitchen table, next to the blue mug. "
    "Dinner with Sam next Saturday at eight."
)
BEACH_NOTE = "Evening at the beach in Cascais. The sunset was beautiful. The water was cold, but we stayed until dark."

FILES: list[SampleFile] = [
    SampleFile(
        "IMG_20250614_081205.jpg", "photo", _t("08:12:05"), HOME,
        "Chelsea the tabby cat at home (1st of a 3-shot burst)",
        SKIMAGE.format(ver="{skimage}", file="chelsea.png") + ", CC0 (photo by Stefan van der Walt)",
    ),
    SampleFile(
        "IMG_20250614_081206.jpg", "photo", _t("08:12:06"), HOME,
        "Chelsea the cat, burst shot 2: the same frame, slightly cropped and shifted (near-duplicate)",
        "as above, cropped by this script",
    ),
    SampleFile(
        "IMG_20250614_081207.jpg", "photo", _t("08:12:07"), HOME,
        "Chelsea the cat, burst shot 3: the same frame, slightly cropped and shifted (near-duplicate)",
        "as above, cropped by this script",
    ),
    SampleFile(
        "IMG_20250614_094112.jpg", "photo", _t("09:41:12"), CAFE,
        "a cup of coffee (espresso) on a saucer at Café Aurora",
        SKIMAGE.format(ver="{skimage}", file="coffee.png")
        + ", CC0 (photo by Rachel Michetti, courtesy of Pikolo Espresso Bar)",
    ),
    SampleFile(
        "IMG_20250614_094230.jpg", "photo", _t("09:42:30"), CAFE,
        "the printed menu of Café Aurora on a wooden table, readable text (OCR): "
        "CAFÉ AURORA / bica 0,80 € / pastel de nata 1,20 € / galão 1,50 € / tosta mista 3,20 € / "
        "Sábado 14 junho",
        "drawn by this script with Pillow; text in DejaVu Sans",
    ),
    SampleFile(
        "VID_20250614_103000.mp4", "video", _t("10:30:00"), VIEWPOINT,
        f"{VIDEO_SCENE_1_S + VIDEO_SCENE_2_S:g} s, {VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}, {VIDEO_FPS} fps. Scene 1 (0-{VIDEO_SCENE_1_S:g} s): slow pan "
        "across a drawn view of Lisbon from the castle: red roofs, the Tagus river, the red suspension "
        f"bridge and a yellow number 28 tram. HARD CUT at {VIDEO_SCENE_1_S:g} s (frame "
        f"{round(VIDEO_SCENE_1_S * VIDEO_FPS)}). Scene 2 ({VIDEO_SCENE_1_S:g}-"
        f"{VIDEO_SCENE_1_S + VIDEO_SCENE_2_S:g} s): slow zoom into the coffee photo",
        "scene 1 drawn by this script with Pillow; scene 2 from skimage/data/coffee.png (CC0); "
        "narration by espeak-ng",
        says=" ".join(s for _, s in VIDEO_LINES),
    ),
    SampleFile(
        "IMG_20250614_152045.jpg", "photo", _t("15:20:45"), SCIENCE_CENTRE,
        "portrait of NASA astronaut Eileen Collins in her orange launch suit (a face), "
        "seen at the space exhibition",
        SKIMAGE.format(ver="{skimage}", file="astronaut.png")
        + ", public domain (NASA, from the NASA Great Images database)",
    ),
    SampleFile(
        "REC_20250614_190500.m4a", "audio", _t("19:05:00"), HOME,
        "voice note recorded at home", "espeak-ng", says=VOICE_NOTE,
    ),
    SampleFile(
        "IMG_20250614_210210.jpg", "photo", _t("21:02:10"), BEACH,
        "sunset over the sea at Cascais beach: orange sky, the sun on the horizon, fishing boats",
        "drawn by this script with Pillow",
    ),
    SampleFile(
        "REC_20250614_211000.m4a", "audio", _t("21:10:00"), BEACH,
        "voice note recorded on the beach at Cascais", "espeak-ng", says=BEACH_NOTE,
    ),
]


# ---------------------------------------------------------------------------------------------
# tools


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def espeak_exe() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit(
            "espeak-ng not found on PATH: it speaks the narration. Install it with "
            "`apt-get install espeak-ng` (the committed sample_media/ files need no rebuild)."
        )
    return exe


def tool_versions() -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        line = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.splitlines()[0]
        # drop the parts that are not the version: ffmpeg's copyright, espeak-ng's data path
        return line.split(" Copyright")[0].split("  Data at")[0].strip()

    out = {"python": sys.version.split()[0]}
    for dist in ("pillow", "piexif", "numpy", "scikit-image", "imageio-ffmpeg"):
        out[dist] = importlib.metadata.version(dist)
    out["ffmpeg"] = first_line([ffmpeg_exe(), "-version"])
    out["espeak-ng"] = first_line([espeak_exe(), "--version"])
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        ttf = FONT_DIR / name
        if ttf.exists():
            out[name] = f"sha256 {hashlib.sha256(ttf.read_bytes()).hexdigest()[:16]} (Debian fonts-dejavu-core)"
    return out


def skimage_image(file: str) -> Image.Image:
    # Read the PNG straight from the installed wheel: skimage.data's loaders would fetch
    # anything missing from the network, and these must never need one.
    import skimage

    path = Path(skimage.__file__).parent / "data" / file
    if not path.exists():
        raise SystemExit(f"{path} is missing: reinstall scikit-image (the file ships in its wheel)")
    return Image.open(path).convert("RGB")


# DejaVu Sans (Debian fonts-dejavu-core, a free licence derived from Bitstream Vera): Pillow's
# bundled Aileron has no é, ã or €, which the Portuguese menu needs.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if not path.exists():
        raise SystemExit(f"{path} not found: the menu text needs it. Install it with `apt-get install fonts-dejavu-core`")
    return ImageFont.truetype(str(path), size)


# ---------------------------------------------------------------------------------------------
# EXIF


def _dms(deg: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    # EXIF GPS is degrees, minutes, seconds as rationals; hundredths of a second is ~0.3 m
    centi = round(abs(deg) * 360000)
    d, rest = divmod(centi, 360000)
    m, s = divmod(rest, 6000)
    return ((d, 1), (m, 1), (s, 100))


def exif_bytes(taken: datetime, place: Place) -> bytes:
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S").encode()
    utc = taken.astimezone(timezone.utc)
    ifd0 = {
        piexif.ImageIFD.Make: CAMERA_MAKE.encode(),
        piexif.ImageIFD.Model: CAMERA_MODEL.encode(),
        piexif.ImageIFD.Software: SOFTWARE.encode(),
        piexif.ImageIFD.DateTime: stamp,
        piexif.ImageIFD.Orientation: 1,
    }
    exif = {
        piexif.ExifIFD.DateTimeOriginal: stamp,
        piexif.ExifIFD.DateTimeDigitized: stamp,
        piexif.ExifIFD.OffsetTime: OFFSET.encode(),
        piexif.ExifIFD.OffsetTimeOriginal: OFFSET.encode(),
        piexif.ExifIFD.OffsetTimeDigitized: OFFSET.encode(),
        piexif.ExifIFD.FocalLength: (43, 10),
        piexif.ExifIFD.FNumber: (18, 10),
    }
    gps = {
        piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
        piexif.GPSIFD.GPSLatitudeRef: b"N" if place.lat >= 0 else b"S",
        piexif.GPSIFD.GPSLatitude: _dms(place.lat),
        piexif.GPSIFD.GPSLongitudeRef: b"E" if place.lon >= 0 else b"W",
        piexif.GPSIFD.GPSLongitude: _dms(place.lon),
        piexif.GPSIFD.GPSMapDatum: b"WGS-84",
        piexif.GPSIFD.GPSDateStamp: utc.strftime("%Y:%m:%d").encode(),
        piexif.GPSIFD.GPSTimeStamp: ((utc.hour, 1), (utc.minute, 1), (utc.second, 1)),
    }
    return piexif.dump({"0th": ifd0, "Exif": exif, "GPS": gps, "1st": {}, "thumbnail": None})


def save_photo(img: Image.Image, path: Path, spec: SampleFile) -> None:
    # Pillow's JPEG encoder (libjpeg-turbo) is deterministic for a fixed quality and no
    # `optimize`/`progressive` search.
    img.convert("RGB").save(path, "JPEG", quality=JPEG_QUALITY, exif=exif_bytes(spec.taken, spec.place))


# ---------------------------------------------------------------------------------------------
# pictures drawn here


def _vertical_gradient(size: tuple[int, int], stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    w, h = size
    y = np.linspace(0.0, 1.0, h)
    pos = [p for p, _ in stops]
    rows = np.stack([np.interp(y, pos, [c[i] for _, c in stops]) for i in range(3)], axis=1)
    return np.repeat(rows[:, None, :], w, axis=1)


def _grain(arr: np.ndarray, rng: np.random.Generator, sigma: float) -> Image.Image:
    # A little sensor-like noise keeps the drawings from looking flat and gives JPEG texture.
    noisy = arr + rng.normal(0.0, sigma, arr.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def draw_menu() -> Image.Image:
    rng = np.random.default_rng(14)
    w, h = 1200, 900
    # wooden table: horizontal streaks in brown
    streaks = rng.normal(0, 1, (h, 1)).cumsum(axis=0)
    streaks = (streaks - streaks.min()) / (np.ptp(streaks) + 1e-9)
    wood = np.stack([120 + 40 * streaks, 78 + 25 * streaks, 45 + 12 * streaks], axis=2)
    table = _grain(np.repeat(wood, w, axis=1), rng, 6)

    paper = Image.new("RGB", (760, 700), (246, 240, 226))
    d = ImageDraw.Draw(paper)
    ink = (40, 32, 28)
    d.rectangle([18, 18, 741, 681], outline=(150, 110, 60), width=4)
    d.text((380, 95), "CAFÉ AURORA", font=font(66, bold=True), fill=(120, 60, 30), anchor="mm")
    d.text((380, 160), "Chiado · Lisboa", font=font(34), fill=ink, anchor="mm")
    d.line([80, 200, 680, 200], fill=(150, 110, 60), width=3)
    items = [("bica", "0,80 €"), ("pastel de nata", "1,20 €"), ("galão", "1,50 €"), ("tosta mista", "3,20 €")]
    for i, (item, price) in enumerate(items):
        y = 265 + i * 82
        d.text((90, y), item, font=font(46), fill=ink, anchor="lm")
        d.text((670, y), price, font=font(46), fill=ink, anchor="rm")
    d.line([80, 590, 680, 590], fill=(150, 110, 60), width=3)
    d.text((380, 632), "Sábado 14 junho", font=font(34), fill=ink, anchor="mm")

    # a slight tilt, as if photographed lying on the table
    paper = paper.rotate(-3.0, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
    mask = Image.new("L", (760, 700), 255).rotate(-3.0, resample=Image.Resampling.BICUBIC, expand=True)
    shadow = Image.new("RGB", paper.size, (40, 25, 15))
    ox, oy = (w - paper.width) // 2, (h - paper.height) // 2
    table.paste(shadow, (ox + 12, oy + 14), mask.filter(ImageFilter.GaussianBlur(8)))
    table.paste(paper, (ox, oy), mask)
    return table


def draw_lisbon_view() -> Image.Image:
    """A wide view from the castle: sky, the Tagus, the red bridge, red roofs and a yellow tram."""
    rng = np.random.default_rng(6)
    w, h = 1800, 720
    base = _vertical_gradient((w, h), [(0.0, (92, 150, 215)), (0.42, (186, 214, 236)), (1.0, (186, 214, 236))])
    img = _grain(base, rng, 2)
    d = ImageDraw.Draw(img)
    # far shore (Almada) and the river
    d.rectangle([0, 300, w, 380], fill=(70, 120, 160))
    d.polygon([(0, 300), (300, 280), (800, 288), (1300, 276), (w, 292), (w, 304), (0, 304)], fill=(120, 135, 110))
    # the 25 de Abril suspension bridge: two towers, sagging cables, deck
    deck_y = 325
    towers = (700, 1250)
    for tx in towers:
        d.rectangle([tx - 7, 215, tx + 7, 360], fill=(190, 55, 40))
    d.line([0, deck_y, w, deck_y], fill=(175, 50, 38), width=6)
    top_y = 218
    xs = np.linspace(towers[0], towers[1], 80)  # main span: sags from tower top almost to the deck
    u = (xs - (towers[0] + towers[1]) / 2) / ((towers[1] - towers[0]) / 2)
    ys = top_y + (deck_y - 10 - top_y) * (1 - u**2)
    d.line(list(zip(xs.tolist(), ys.tolist())), fill=(175, 50, 38), width=3)
    for anchor, tower in ((380, towers[0]), (1570, towers[1])):  # side spans: anchor on the deck to tower top
        xs = np.linspace(anchor, tower, 40)
        u = (xs - anchor) / (tower - anchor)
        ys = deck_y - (deck_y - top_y) * u**2
        d.line(list(zip(xs.tolist(), ys.tolist())), fill=(175, 50, 38), width=3)
    # houses: rows of walls with terracotta roofs, back to front
    walls = [(236, 228, 210), (232, 196, 120), (226, 170, 150), (240, 240, 236), (200, 190, 170), (180, 200, 210)]
    for row, row_top in enumerate((385, 445, 515, 595)):
        x = -int(rng.integers(0, 60))
        while x < w:
            # the hillside: rows rise and fall gently, and no two houses line up exactly
            top = row_top + int(18 * np.sin(x / 260 + row)) + int(rng.integers(-14, 15))
            bw = int(rng.integers(60, 160)) + row * 20
            bh = int(rng.integers(60, 110)) + row * 20
            wall = walls[int(rng.integers(len(walls)))]
            d.rectangle([x, top, x + bw, top + bh + 200], fill=wall, outline=(150, 140, 130))
            d.polygon([(x - 6, top), (x + bw // 2, top - 28 - row * 4), (x + bw + 6, top)], fill=(178, 82, 52))
            for wx in range(x + 14, x + bw - 20, 34 + row * 4):
                for wy in range(top + 18, top + bh, 40 + row * 6):
                    d.rectangle([wx, wy, wx + 14 + row * 3, wy + 22 + row * 4], fill=(70, 80, 95))
            x += bw + 4
    # the yellow 28 tram in the street at the bottom
    d.rectangle([0, 660, w, h], fill=(120, 115, 110))
    tx, ty = 980, 560
    d.rounded_rectangle([tx, ty, tx + 360, ty + 130], radius=18, fill=(246, 196, 20), outline=(60, 50, 30), width=3)
    d.rectangle([tx + 4, ty + 92, tx + 356, ty + 106], fill=(240, 240, 235))
    for i in range(6):
        d.rectangle([tx + 22 + i * 56, ty + 22, tx + 62 + i * 56, ty + 72], fill=(60, 70, 85))
    d.rectangle([tx + 150, ty - 22, tx + 210, ty], fill=(30, 30, 30))
    d.text((tx + 180, ty - 11), "28", font=font(20, bold=True), fill=(255, 210, 40), anchor="mm")
    d.line([tx + 180, ty - 22, tx + 150, ty - 70], fill=(40, 40, 40), width=3)
    for wx in (tx + 60, tx + 300):
        d.ellipse([wx - 18, ty + 118, wx + 18, ty + 150], fill=(30, 30, 30))
    return img


def draw_sunset() -> Image.Image:
    rng = np.random.default_rng(21)
    w, h = 1600, 1200
    horizon = 640
    sky = _vertical_gradient(
        (w, h), [(0.0, (58, 60, 120)), (0.28, (200, 90, 90)), (horizon / h, (252, 176, 80)), (1.0, (252, 176, 80))]
    )
    img = _grain(sky, rng, 3)
    d = ImageDraw.Draw(img)
    # sea: dark blue with orange glints under the sun
    sea = _vertical_gradient((w, h - horizon), [(0.0, (70, 80, 120)), (1.0, (30, 40, 70))])
    img.paste(_grain(sea, rng, 4), (0, horizon))
    sun_x, r = 980, 95
    d.pieslice([sun_x - r, horizon - r, sun_x + r, horizon + r], 180, 360, fill=(255, 214, 120))
    for i in range(40):
        y = horizon + 8 + i * 12
        half = int(r * (1.2 - i / 50) + rng.integers(0, 40))
        d.line([sun_x - half, y, sun_x + half, y], fill=(250, 170, 90), width=3)
    # beach in the foreground
    d.polygon([(0, 980), (500, 930), (1100, 960), (w, 920), (w, h), (0, h)], fill=(196, 160, 110))
    # fishing boats on the water, as silhouettes
    for bx, by, s in ((360, 760, 1.0), (610, 720, 0.6), (1320, 800, 1.2)):
        d.polygon([(bx, by), (bx + 150 * s, by), (bx + 125 * s, by + 32 * s), (bx + 22 * s, by + 32 * s)], fill=(25, 25, 35))
        d.line([bx + 70 * s, by, bx + 70 * s, by - 90 * s], fill=(25, 25, 35), width=max(2, int(4 * s)))
    return img.filter(ImageFilter.GaussianBlur(0.8))


# ---------------------------------------------------------------------------------------------
# sound


def speak(text: str) -> tuple[np.ndarray, int]:
    """Speak `text` with espeak-ng; return int16 mono samples and their rate."""
    wav = subprocess.run(
        [espeak_exe(), "-v", ESPEAK_VOICE, "-s", str(ESPEAK_SPEED), "-g", str(ESPEAK_GAP), "--stdout", text],
        capture_output=True, check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as f:
        rate = f.getframerate()
        # espeak-ng --stdout leaves the RIFF size fields unset; count frames from the bytes read.
        data = f.readframes(f.getnframes() if f.getnframes() > 0 else 10**9)
    return np.frombuffer(data, dtype="<i2").copy(), rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(samples.astype("<i2").tobytes())


def place_lines(lines: list[tuple[float, str]], total_s: float) -> tuple[np.ndarray, int]:
    """Mix sentences at fixed start times into one track of `total_s` seconds."""
    rate = 0
    track: np.ndarray | None = None
    for start, text in lines:
        samples, rate = speak(text)
        if track is None:
            track = np.zeros(int(total_s * rate), dtype=np.int16)
        i = int(start * rate)
        if i + len(samples) > len(track):
            raise SystemExit(f"the line {text!r} at {start} s runs past the end ({total_s} s): move it or speak faster")
        track[i : i + len(samples)] = samples
    assert track is not None
    return track, rate


def _ffmpeg_common_out(spec: SampleFile) -> list[str]:
    utc = spec.taken.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        "-map_metadata", "-1",
        "-c:a", "aac", "-b:a", AUDIO_BITRATE,
        "-threads", "1",
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-metadata", f"creation_time={utc}",
        # written as the QuickTime ©xyz atom, as phones do; FFmpeg/PyAV read it back as "location"
        "-metadata", f"location={spec.place.iso6709}",
        "-movflags", "+faststart",
    ]


def encode_voice_note(spec: SampleFile, out: Path, work: Path) -> None:
    samples, rate = speak(spec.says)
    pad = np.zeros(int(0.5 * rate), dtype=np.int16)  # a breath of silence either side, as a real recording has
    wav = work / (spec.name + ".wav")
    write_wav(wav, np.concatenate([pad, samples, pad]), rate)
    subprocess.run(
        [ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error", "-i", str(wav), *_ffmpeg_common_out(spec), str(out)],
        check=True,
    )


def _ken_burns(img: Image.Image, n: int, start: tuple[float, float, float], end: tuple[float, float, float]):
    """Yield n frames panning/zooming from start to end; each is (cx, cy, width) as fractions of the image."""
    W, H = img.size
    ow, oh = VIDEO_SIZE
    for i in range(n):
        t = i / max(1, n - 1)
        t = t * t * (3 - 2 * t)  # ease in and out
        cx, cy, fw = (a + (b - a) * t for a, b in zip(start, end))
        bw = fw * W
        bh = bw * oh / ow
        x0 = min(max(cx * W - bw / 2, 0), W - bw)
        y0 = min(max(cy * H - bh / 2, 0), H - bh)
        yield img.resize(VIDEO_SIZE, Image.Resampling.BICUBIC, box=(x0, y0, x0 + bw, y0 + bh))


def encode_video(spec: SampleFile, out: Path, work: Path) -> None:
    total = VIDEO_SCENE_1_S + VIDEO_SCENE_2_S
    track, rate = place_lines(VIDEO_LINES, total)
    wav = work / "narration.wav"
    write_wav(wav, track, rate)

    view = draw_lisbon_view()
    coffee = skimage_image("coffee.png")
    n1 = round(VIDEO_SCENE_1_S * VIDEO_FPS)
    n2 = round(VIDEO_SCENE_2_S * VIDEO_FPS)
    ow, oh = VIDEO_SIZE
    cmd = [
        ffmpeg_exe(), "-y", "-hide_banner", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{ow}x{oh}", "-r", str(VIDEO_FPS), "-i", "pipe:0",
        "-i", str(wav),
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "medium", "-crf", "23", "-pix_fmt", "yuv420p",
        "-flags:v", "+bitexact",
        *_ffmpeg_common_out(spec),
        "-shortest", str(out),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    frames = [
        *_ken_burns(view, n1, (0.28, 0.5, 0.50), (0.66, 0.5, 0.50)),
        *_ken_burns(coffee, n2, (0.5, 0.5, 1.0), (0.42, 0.42, 0.62)),
    ]
    for frame in frames:
        proc.stdin.write(frame.convert("RGB").tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit(f"ffmpeg failed ({proc.returncode}) writing {out}: {' '.join(cmd)}")


# ---------------------------------------------------------------------------------------------
# SOURCES.md


def write_sources(out: Path, versions: dict[str, str]) -> None:
    lines = [
        "# Sample day: Saturday 2025-06-14, Lisbon (UTC+01:00)",
        "",
        "Written by `scripts/make_sample_media.py`; do not edit by hand (rerun the script). "
        "Running it twice with the tool versions below gives byte-identical files.",
        "",
        "Capture times are local (+01:00); photos carry them in EXIF DateTimeOriginal + "
        "OffsetTimeOriginal, with GPS, Make `Lifelog`, Model `Sample Phone 1`. Video and voice notes "
        "carry `creation_time` (UTC, as phones write it) and an ISO 6709 `location` (QuickTime ©xyz).",
        "",
        "| file | local time | place (lat, lon) | what it shows / says |",
        "|---|---|---|---|",
    ]
    for f in FILES:
        what = f.shows + (f' — says: "{f.says}"' if f.says else "")
        lines.append(
            f"| `{f.name}` | {f.taken.strftime('%H:%M:%S')} | {f.place.name} ({f.place.lat:.4f}, {f.place.lon:.4f}) | {what} |"
        )
    lines += [
        "",
        "## The video",
        "",
        f"`VID_20250614_103000.mp4`: H.264 + AAC, {VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}, {VIDEO_FPS} fps, "
        f"{VIDEO_SCENE_1_S + VIDEO_SCENE_2_S:g} s. **Hard cut at {VIDEO_SCENE_1_S:g} s** "
        f"(first frame of scene 2 is frame {round(VIDEO_SCENE_1_S * VIDEO_FPS)}, counting from 0). "
        "creation_time 2025-06-14T09:30:00Z = 10:30 local.",
        "",
        "| start (s) | narration |",
        "|---|---|",
        *[f"| {s:g} | {t} |" for s, t in VIDEO_LINES],
        "",
        "## Ingredients and licences",
        "",
        "| file | source |",
        "|---|---|",
        *[f"| `{f.name}` | {f.source.format(skimage=versions['scikit-image'])} |" for f in FILES],
        "",
        "- scikit-image sample images: licences as stated in the docstrings of `skimage.data.chelsea`, "
        "`skimage.data.coffee` (CC0) and `skimage.data.astronaut` (public domain, NASA); the files are "
        "read from the installed wheel, nothing is downloaded.",
        "- Drawn pictures (menu, Lisbon view, sunset), the crops and all EXIF/metadata: made by the "
        "script, part of this project (MIT). Text is set in DejaVu Sans (Debian `fonts-dejavu-core`, "
        "Bitstream Vera licence; rendering text into a picture puts no terms on the picture).",
        f"- Speech: espeak-ng, voice `{ESPEAK_VOICE}`, {ESPEAK_SPEED} words/min, word gap {ESPEAK_GAP * 10} ms. "
        "espeak-ng's licence (GPL-3.0) covers the program, not the speech it outputs.",
        "- Camera Make/Model are invented (`Lifelog` / `Sample Phone 1`): no real device took these.",
        "",
        "## Tool versions used",
        "",
        *[f"- {k}: {v}" for k, v in versions.items()],
        "",
    ]
    (out / "SOURCES.md").write_text("\n".join(lines), encoding="utf-8")


# ---------------------------------------------------------------------------------------------


def build(out: Path) -> list[Path]:
    """Write every sample file and SOURCES.md into `out`; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    versions = tool_versions()
    by_name = {f.name: f for f in FILES}
    cat = skimage_image("chelsea.png")
    W, H = cat.size
    # The burst: the same frame, each shot cropped a little tighter and shifted, as a hand moves.
    bursts = [(0, 0, W, H), (7, 2, W - 1, H - 3), (3, 8, W - 6, H - 1)]
    photos: dict[str, Image.Image] = {
        "IMG_20250614_081205.jpg": cat.crop(bursts[0]),
        "IMG_20250614_081206.jpg": cat.crop(bursts[1]).resize((W, H), Image.Resampling.BICUBIC),
        "IMG_20250614_081207.jpg": cat.crop(bursts[2]).resize((W, H), Image.Resampling.BICUBIC),
        "IMG_20250614_094112.jpg": skimage_image("coffee.png"),
        "IMG_20250614_094230.jpg": draw_menu(),
        "IMG_20250614_152045.jpg": skimage_image("astronaut.png"),
        "IMG_20250614_210210.jpg": draw_sunset(),
    }
    written: list[Path] = []
    for name, img in photos.items():
        save_photo(img, out / name, by_name[name])
        written.append(out / name)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for f in FILES:
            if f.kind == "video":
                encode_video(f, out / f.name, work)
            elif f.kind == "audio":
                encode_voice_note(f, out / f.name, work)
            else:
                continue
            written.append(out / f.name)
    write_sources(out, versions)
    written.append(out / "SOURCES.md")
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "sample_media",
                    help="folder to write into (default: sample_media/ of this checkout)")
    args = ap.parse_args(argv)
    written = build(args.out)
    total = sum(p.stat().st_size for p in written)
    for p in written:
        print(f"{p.stat().st_size:>9,}  {hashlib.sha256(p.read_bytes()).hexdigest()[:16]}  {p}")
    print(f"{total / 1e6:.2f} MB in {len(written)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
