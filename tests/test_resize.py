"""Emailed images are made ready by the store: upright, at most 1200 px wide, no GPS position."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from infolettre.gather.mail import Attachment, ItemDraft
from infolettre.content import IMAGE_MAX_WIDTH, fit_image, read_item, write_draft

ORIENTATION, GPS_IFD = 0x0112, 0x8825


def draft(*attachments: Attachment, image: str | None = None) -> ItemDraft:
    front = {"titre": "Frigo communautaire", "organisme": "CDC des Etchemins",
             "rubrique": "nouvelles", "date": date(2026, 11, 24), "statut": "soumis",
             "source": "courriel"}
    if image:
        front.update(image=image, image_alt="Un frigo")
    return ItemDraft(front_matter=front, corps="Du texte.", slug="frigo",
                     message_id="m@example.org", sender="info@cdc-etchemins.example.org",
                     digest="0" * 64, attachments=list(attachments))


def camera_jpeg() -> bytes:
    """A 3000×2000 photo taken « on its side » (orientation 6) with a GPS position."""
    image = Image.new("RGB", (3000, 2000), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, 1500, 2000))  # left half blue, right half red
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to view
    exif[0x010F] = "Appareil"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (46.0, 30.0, 0.0), 3: "W", 4: (70.0, 40.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def small_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (320, 200), (10, 120, 40, 255)).save(out, "PNG")
    return out.getvalue()


def test_large_photo_is_turned_upright_resized_and_stripped(settings):
    """The photo is rotated per EXIF, 1200 px wide, still a progressive JPEG, without EXIF/GPS."""
    original = camera_jpeg()
    with Image.open(io.BytesIO(original)) as source:  # the test photo does carry a position
        assert source.getexif().get_ifd(GPS_IFD) and source.getexif()[ORIENTATION] == 6
    photo = Attachment("photo.jpg", "image/jpeg", original, "image")
    path = write_draft(settings, "2026-12", draft(photo, image="photo.jpg"))
    written = path.parent / "photo.jpg"
    with Image.open(written) as image:
        assert image.format == "JPEG" and image.info.get("progressive") == 1
        # upright: 2000×3000 once rotated, so 1200×1800 after resizing
        assert image.size == (IMAGE_MAX_WIDTH, 1800)
        exif = image.getexif()
        assert ORIENTATION not in exif and not exif.get_ifd(GPS_IFD) and "exif" not in image.info
        # rotated clockwise: the left (blue) half of the sensor is now on top
        top, bottom = image.getpixel((600, 200)), image.getpixel((600, 1600))
        assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]
    item, problems = read_item(path, settings, "2026-12")
    assert item.image == "photo.jpg" and problems == []
    assert "Pièce jointe" not in path.read_text(encoding="utf-8")


def test_small_png_is_left_untouched(settings):
    """A PNG narrower than the limit, with no metadata, keeps its exact bytes."""
    data = small_png()
    path = write_draft(settings, "2026-12",
                       draft(Attachment("logo.png", "image/png", data, "image"), image="logo.png"))
    assert (path.parent / "logo.png").read_bytes() == data
    assert fit_image(data) == (data, None)


def test_small_photo_loses_its_gps_position_but_keeps_its_size():
    """Narrow enough, but with EXIF (GPS): re-encoded without metadata, same dimensions."""
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (46.0, 30.0, 0.0)})
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 90, 90)).save(out, "JPEG", exif=exif)
    data, note = fit_image(out.getvalue())
    with Image.open(io.BytesIO(data)) as image:
        assert note is None and image.size == (800, 600) and image.format == "JPEG"
        assert not image.getexif().get_ifd(GPS_IFD) and "exif" not in image.info


def test_wide_png_is_resized_and_stays_png():
    out = io.BytesIO()
    Image.new("RGB", (2400, 600), (1, 2, 3)).save(out, "PNG")
    data, note = fit_image(out.getvalue())
    with Image.open(io.BytesIO(data)) as image:
        assert note is None and image.format == "PNG" and image.size == (1200, 300)


def test_animated_gif_is_left_as_is():
    frames = [Image.new("RGB", (1600, 100), c) for c in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    with Image.open(io.BytesIO(out.getvalue())) as check:
        assert check.is_animated
    assert fit_image(out.getvalue()) == (out.getvalue(), None)


def test_corrupt_image_is_kept_with_a_note_instead_of_crashing(settings):
    """Bytes that only look like a JPEG are kept unchanged, and noted for the pivot."""
    broken = b"\xff\xd8\xff\xe0" + b"pas vraiment une image" * 20
    path = write_draft(settings, "2026-12",
                       draft(Attachment("affiche.jpg", "image/jpeg", broken, "image")))
    assert (path.parent / "affiche.jpg").read_bytes() == broken
    text = path.read_text(encoding="utf-8")
    assert "# À vérifier : image « affiche.jpg » illisible" in text
    item, problems = read_item(path, settings, "2026-12")
    assert item is not None and problems == []


def test_documents_are_still_linked(settings):
    pdf = Attachment("horaire.pdf", "application/pdf", b"%PDF-1.4", "document")
    path = write_draft(settings, "2026-12", draft(pdf))
    assert "Pièce jointe : [horaire.pdf](horaire.pdf)" in path.read_text(encoding="utf-8")
