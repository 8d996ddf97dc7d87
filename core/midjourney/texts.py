"""English and Chinese texts of the Midjourney features (registered into core.i18n)."""

from __future__ import annotations

from core.i18n import register_messages

EN: dict[str, str] = {
    "mj.started": "🎨 Midjourney: `{prompt}`",
    "mj.action_started": "🎨 {action}…",
    "mj.progress.waiting": "⏳ Submitted to Midjourney, waiting to start…",
    "mj.progress.queued": "⏳ Queued: {position} task(s) ahead",
    "mj.progress.running": "🎨 Drawing…",
    "mj.caption": "`{prompt}`",
    "mj.failed": "Midjourney failed: {reason}.{refund}",
    "mj.refund_note": " The gateway refunds failed tasks.",
    "mj.timeout": ("Midjourney did not finish within {minutes} min, so I stopped waiting "
                   "(a gateway may keep a task up to an hour).{refund}"),
    "mj.queue_full": "Midjourney's queue is full right now. Please try again in a few minutes.",
    "mj.banned": ("Midjourney refused the prompt: the word “{word}” is banned. "
                  "English prompt sent: {prompt_en}"),
    "mj.invalid": "Midjourney rejected the request: {detail}",
    "mj.not_found": "That Midjourney task is no longer known to the gateway.",
    "mj.system_failure": "The Midjourney service failed: {detail}",
    "mj.error": "Midjourney error: {detail}",
    "mj.button_unsupported": "The gateway does not support this button.",
    "mj.btn.upscale_subtle": "Upscale (Subtle)",
    "mj.btn.upscale_creative": "Upscale (Creative)",
    "mj.btn.upscale_2x": "Upscale (2x)",
    "mj.btn.upscale_4x": "Upscale (4x)",
    "mj.btn.vary": "Make Variations",
    "mj.btn.vary_subtle": "Vary (Subtle)",
    "mj.btn.vary_strong": "Vary (Strong)",
    "mj.btn.vary_region": "Vary (Region)",
    "mj.btn.zoom_out_2": "Zoom Out 2x",
    "mj.btn.zoom_out_15": "Zoom Out 1.5x",
    "mj.btn.custom_zoom": "Custom Zoom",
    "mj.btn.seed": "Seed",
    "mj.btn.reroll": "Reroll",
    "mj.prompt.zoom": "Custom Zoom: send the prompt with --zoom 1 to 2 (e.g. --zoom 1.5).",
    "mj.prompt.region": "Vary Region: describe what to draw in the selected area.",
    "mj.prompt.remix": "Remix: send the prompt to use.",
    "mj.region.pick": ("Vary Region: tap the squares to redraw ({count} selected), "
                       "then press Done. Or reply to this message with a mask image (white = "
                       "redraw) and the prompt as its text."),
    "mj.region.done": "Done",
    "mj.region.none": "Select at least one square first.",
    "mj.no_prompt": "Send a prompt, e.g. /mj a red fox in the snow --ar 16:9",
    "mj.prompt_empty": "The prompt is empty.",
    "mj.zoom_needed": "Custom Zoom needs --zoom between 1 and 2 in the prompt.",
    "mj.blend.count": "Blend needs 2 to 5 images (got {count}).",
    "mj.describe.need_image": "Attach an image to describe.",
    "mj.describe.result": "🔎 Midjourney describes it as:\n{lines}",
    "mj.shorten.result": "✂️ Shorter prompts:\n{lines}",
    "mj.imagine_n": "Imagine {n}",
    "mj.seed": "🌱 Seed of task `{task}`: `{seed}`",
    "mj.seed.need_task": "Give a task id: /seed <task id>, or press 🌱 under a result.",
    "mj.swap.need_images": "Face swap needs two images: the face first, then the picture.",
    "mj.swap.consent": ("ℹ️ Face swap: only use faces of people who agreed to it "
                        "(shown once)."),
    "mj.bad_image": "That image could not be read.",
    "mj.cancelled": "Stopped following this Midjourney task.",
    "mj.progress.stopped": "❌ Not finished",
    "mj.region.need_mask": ("Pick squares on the picker, or reply to it with a mask image "
                            "(white = the area to redraw) and the prompt."),
    "mj.unavailable": "Midjourney is not available on this gateway.",
}

ZH: dict[str, str] = {
    "mj.started": "🎨 Midjourney:`{prompt}`",
    "mj.action_started": "🎨 {action}…",
    "mj.progress.waiting": "⏳ 已提交到 Midjourney,等待开始…",
    "mj.progress.queued": "⏳ 排队中:前面还有 {position} 个任务",
    "mj.progress.running": "🎨 绘制中…",
    "mj.caption": "`{prompt}`",
    "mj.failed": "Midjourney 失败:{reason}。{refund}",
    "mj.refund_note": " 网关会自动退还失败任务的费用。",
    "mj.timeout": ("Midjourney 在 {minutes} 分钟内没有完成,已停止等待"
                   "(网关最多可能保留任务一小时)。{refund}"),
    "mj.queue_full": "Midjourney 队列已满,请几分钟后再试。",
    "mj.banned": "Midjourney 拒绝了提示词:“{word}”是禁用词。发送的英文提示词:{prompt_en}",
    "mj.invalid": "Midjourney 拒绝了请求:{detail}",
    "mj.not_found": "网关已找不到这个 Midjourney 任务。",
    "mj.system_failure": "Midjourney 服务出错:{detail}",
    "mj.error": "Midjourney 错误:{detail}",
    "mj.button_unsupported": "网关不支持这个按钮。",
    "mj.btn.upscale_subtle": "放大(细微)",
    "mj.btn.upscale_creative": "放大(创意)",
    "mj.btn.upscale_2x": "放大(2倍)",
    "mj.btn.upscale_4x": "放大(4倍)",
    "mj.btn.vary": "生成变体",
    "mj.btn.vary_subtle": "变化(细微)",
    "mj.btn.vary_strong": "变化(强烈)",
    "mj.btn.vary_region": "局部重绘",
    "mj.btn.zoom_out_2": "缩小 2 倍",
    "mj.btn.zoom_out_15": "缩小 1.5 倍",
    "mj.btn.custom_zoom": "自定义缩放",
    "mj.btn.seed": "种子",
    "mj.btn.reroll": "重新生成",
    "mj.prompt.zoom": "自定义缩放:发送带 --zoom 1 到 2 的提示词(如 --zoom 1.5)。",
    "mj.prompt.region": "局部重绘:描述选中区域要画的内容。",
    "mj.prompt.remix": "Remix:发送要使用的提示词。",
    "mj.region.pick": ("局部重绘:点选要重绘的方格(已选 {count} 个),然后点“完成”。"
                       "也可以回复这条消息,附上蒙版图片(白色 = 重绘)并写上提示词。"),
    "mj.region.done": "完成",
    "mj.region.none": "请先至少选择一个方格。",
    "mj.no_prompt": "请发送提示词,例如 /mj 雪地里的红狐狸 --ar 16:9",
    "mj.prompt_empty": "提示词为空。",
    "mj.zoom_needed": "自定义缩放的提示词需要包含 1 到 2 之间的 --zoom。",
    "mj.blend.count": "混图需要 2 到 5 张图片(收到 {count} 张)。",
    "mj.describe.need_image": "请附上一张要描述的图片。",
    "mj.describe.result": "🔎 Midjourney 的描述:\n{lines}",
    "mj.shorten.result": "✂️ 精简后的提示词:\n{lines}",
    "mj.imagine_n": "绘制 {n}",
    "mj.seed": "🌱 任务 `{task}` 的种子:`{seed}`",
    "mj.seed.need_task": "请给出任务 ID:/seed <任务ID>,或点结果下的 🌱。",
    "mj.swap.need_images": "换脸需要两张图片:先是人脸,再是目标图片。",
    "mj.swap.consent": "ℹ️ 换脸:请只使用本人同意的人脸(仅提示一次)。",
    "mj.bad_image": "无法读取这张图片。",
    "mj.cancelled": "已停止跟踪这个 Midjourney 任务。",
    "mj.progress.stopped": "❌ 未完成",
    "mj.region.need_mask": ("请在方格选择消息上选择方格,或回复它并附上遮罩图片"
                            "(白色 = 要重绘的区域)和提示词。"),
    "mj.unavailable": "这个网关不提供 Midjourney。",
}


def register() -> None:
    """Add the texts to the core catalogs (idempotent)."""
    register_messages("en", EN)
    register_messages("zh", ZH)


register()
