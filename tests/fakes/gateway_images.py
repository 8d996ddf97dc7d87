"""Image routes of ``FakeGateway``: OpenAI-style generations, edits and variations.

``images = install_images(fake)`` serves (documented rules of the OpenAI Images API,
platform.openai.com/docs/api-reference/images):

* ``POST /v1/images/generations`` (JSON): dall-e-2 sizes 256x256/512x512/1024x1024,
  n 1-10, no ``hd`` quality, no style; dall-e-3 sizes 1024x1024/1792x1024/1024x1792,
  n = 1, quality standard/hd, style vivid/natural, ``revised_prompt`` in each item;
  prompt at most 1000 (dall-e-2) / 4000 (dall-e-3) characters; ``response_format``
  ``url`` (the API default) or ``b64_json``. cogview-3: sizes of Zhipu's docs
  (1024x1024, 768x1344, 864x1152, 1344x768, 1152x864, 1440x720, 720x1440), n = 1
  (assumed).
* ``POST /v1/images/edits`` and ``/v1/images/variations`` (multipart/form-data): dall-e-2
  only; ``image`` a square PNG under 4 MB (edits without ``mask``: it must have an alpha
  channel, i.e. RGBA); a ``mask`` PNG of the same size.
* ``GET /files/{name}``: the URL results, signed like a CDN link
  (``/files/<id>.png?sig=<hex>``): a wrong or missing ``sig`` answers 403.

Every bad request is a 400 with an OpenAI error body. Results are REAL small PNGs
(``side`` px, solid colors cycling per image: invented, the real ones are ``size``),
so callers can decode them. Switches: ``ignore_response_format`` (always answer URLs,
as some gateways do — invented quirk), ``revise`` (the dall-e-3 revised prompt).
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from aiohttp import web
from PIL import Image

from tests.fakes.gateway import Call, FakeGateway, RecordedRequest
from tests.fakes.gateway_replies import error_body

GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"
VARIATIONS = "/v1/images/variations"
FILES = "/files/{name}"

SIZES = {
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
    "cogview-3": ("1024x1024", "768x1344", "864x1152", "1344x768", "1152x864", "1440x720",
                  "720x1440"),
}
MAX_N = {"dall-e-2": 10, "dall-e-3": 1, "cogview-3": 1}
MAX_PROMPT = {"dall-e-2": 1000, "dall-e-3": 4000, "cogview-3": 1000}
MAX_UPLOAD = 4 * 1024 * 1024
COLORS = ((220, 40, 40), (40, 160, 60), (40, 80, 220), (230, 200, 30))
SIGNING_KEY = b"fake-cdn-key"


def png(color: tuple[int, int, int], side: int = 64, mode: str = "RGB") -> bytes:
    """A real ``side``×``side`` PNG of one color."""
    out = io.BytesIO()
    Image.new(mode, (side, side), color).save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class FormFile:
    """One multipart field: ``filename`` is ``""`` for a plain field."""

    data: bytes
    filename: str = ""
    content_type: str = ""

    @property
    def text(self) -> str:
        return self.data.decode()


def multipart_form(request: RecordedRequest) -> dict[str, FormFile]:
    """The fields of a recorded ``multipart/form-data`` body by name."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.raw)
    fields: dict[str, FormFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = FormFile(payload if isinstance(payload, bytes) else b"",
                                     part.get_filename() or "", part.get_content_type())
    return fields


@dataclass
class FakeImages:
    """State of the image routes of one ``FakeGateway``."""

    fake: FakeGateway
    side: int = 64
    ignore_response_format: bool = False
    revise: str = "A detailed picture of {prompt}"
    files: dict[str, bytes] = field(default_factory=dict)
    _colors: itertools.cycle[tuple[int, int, int]] = field(
        default_factory=lambda: itertools.cycle(COLORS))
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def image_requests(self) -> list[RecordedRequest]:
        """Recorded requests of the three image routes."""
        return [r for r in self.fake.requests if r.path in (GENERATIONS, EDITS, VARIATIONS)]

    def file_requests(self) -> list[RecordedRequest]:
        """Recorded downloads of URL results."""
        return [r for r in self.fake.requests if r.route == FILES]

    def sign(self, name: str) -> str:
        return hashlib.sha256(SIGNING_KEY + name.encode()).hexdigest()[:32]

    def answer(self, model: str, prompt: str, n: int, response_format: str) -> web.Response:
        items = []
        for _ in range(n):
            data = png(next(self._colors), self.side)
            item: dict[str, Any] = {}
            if response_format == "b64_json" and not self.ignore_response_format:
                item["b64_json"] = base64.b64encode(data).decode()
            else:
                name = f"img{next(self._ids)}.png"
                self.files[name] = data
                item["url"] = f"{self.fake.url}/files/{name}?sig={self.sign(name)}"
            if model == "dall-e-3":
                item["revised_prompt"] = self.revise.format(prompt=prompt)
            items.append(item)
        return web.json_response({"created": int(time.time()), "data": items})

    async def generations(self, call: Call) -> web.StreamResponse:
        body = call.request.json if isinstance(call.request.json, dict) else {}
        model = str(body.get("model") or "dall-e-2")
        problem = check_common(model, body.get("prompt"), body.get("n", 1),
                               body.get("size"), body.get("response_format"), needs_prompt=True)
        if problem is None:
            problem = check_options(model, body.get("quality"), body.get("style"))
        if problem is not None:
            return bad_request(problem)
        return self.answer(model, str(body["prompt"]), int(body.get("n", 1)),
                           str(body.get("response_format") or "url"))

    async def edits(self, call: Call) -> web.StreamResponse:
        return await self._upload(call, edit=True)

    async def variations(self, call: Call) -> web.StreamResponse:
        return await self._upload(call, edit=False)

    async def _upload(self, call: Call, *, edit: bool) -> web.StreamResponse:
        if not call.request.headers.get("content-type", "").startswith("multipart/form-data"):
            return bad_request("expected multipart/form-data")
        form = multipart_form(call.request)
        values = {name: f.text for name, f in form.items() if not f.filename}
        model = values.get("model") or "dall-e-2"
        if model != "dall-e-2":
            return bad_request(f"model {model} does not support this operation")
        prompt = values.get("prompt") if edit else "-"
        problem = check_common(model, prompt, values.get("n", "1"), values.get("size"),
                               values.get("response_format"), needs_prompt=edit)
        image = form.get("image")
        problem = problem or check_png(image, "image", need_alpha=edit and "mask" not in form)
        if problem is None and edit and "mask" in form:
            problem = check_png(form["mask"], "mask", need_alpha=True, like=image)
        if problem is not None:
            return bad_request(problem)
        return self.answer(model, prompt or "", int(values.get("n", "1")),
                           values.get("response_format") or "url")

    async def serve_file(self, call: Call) -> web.StreamResponse:
        name = call.request.match_info["name"]
        if name not in self.files or call.request.query.get("sig") != self.sign(name):
            return web.json_response(error_body("signature mismatch"), status=403)
        return web.Response(body=self.files[name], content_type="image/png")


def check_common(model: str, prompt: Any, n: Any, size: Any, response_format: Any, *,
                 needs_prompt: bool) -> str | None:
    """The 400 message for a bad model/prompt/n/size/response_format, else None."""
    if model not in SIZES:
        return f"invalid model {model}"
    if needs_prompt and (not isinstance(prompt, str) or not prompt.strip()):
        return "prompt is required"
    if needs_prompt and len(prompt) > MAX_PROMPT[model]:
        return f"prompt is too long (max {MAX_PROMPT[model]} characters)"
    try:
        count = int(n)
    except (TypeError, ValueError):
        return f"invalid n {n!r}"
    if not 1 <= count <= MAX_N[model]:
        return f"n must be between 1 and {MAX_N[model]} for {model}"
    if size is not None and size not in SIZES[model]:
        return f"size {size} is not supported by {model}"
    if response_format not in (None, "url", "b64_json"):
        return f"invalid response_format {response_format}"
    return None


def check_options(model: str, quality: Any, style: Any) -> str | None:
    """The 400 message for a quality/style the model does not take, else None."""
    if quality is not None and ((model != "dall-e-3" and quality != "standard")
                                or quality not in ("standard", "hd")):
        return f"quality {quality} is not supported by {model}"
    if style is not None and (model != "dall-e-3" or style not in ("vivid", "natural")):
        return f"style {style} is not supported by {model}"
    return None


def check_png(part: FormFile | None, name: str, *, need_alpha: bool,
              like: FormFile | None = None) -> str | None:
    """The 400 message for an upload that is not a square PNG under 4 MB, else None."""
    if part is None:
        return f"{name} is required"
    if len(part.data) >= MAX_UPLOAD:
        return f"{name} must be less than 4 MB"
    try:
        with Image.open(io.BytesIO(part.data)) as image:
            fmt, size, mode = image.format, image.size, image.mode
    except Exception:
        return f"{name} is not a valid image"
    if fmt != "PNG":
        return f"{name} must be a PNG"
    if size[0] != size[1]:
        return f"{name} must be square"
    if need_alpha and mode not in ("RGBA", "LA"):
        return f"{name} must have transparency (RGBA)"
    if like is not None:
        with Image.open(io.BytesIO(like.data)) as other:
            if other.size != size:
                return f"{name} must have the same dimensions as image"
    return None


def bad_request(message: str) -> web.Response:
    return web.json_response(error_body(message), status=400)


def install_images(fake: FakeGateway) -> FakeImages:
    """Serve the image routes on ``fake``; returns their state."""
    images = FakeImages(fake)
    fake.route("POST", GENERATIONS, images.generations)
    fake.route("POST", EDITS, images.edits)
    fake.route("POST", VARIATIONS, images.variations)
    fake.route("GET", FILES, images.serve_file)
    fake.models.extend(model for model in SIZES if model not in fake.models)
    return images
