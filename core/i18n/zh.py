"""Chinese messages."""

MESSAGES: dict[str, str] = {
    "error.internal": "内部出错了,请重试。",
    "error.gateway": "模型服务出错,请重试。",
    "error.rate_limited": "模型服务繁忙(请求受限),请 {retry_after_text} 后重试。",
    "error.unavailable": "模型服务暂时不可用,请稍后再试。",
    "error.timeout": "模型未能及时回答,请重试。",
    "error.auth_failed": "机器人的网关 API 密钥被拒绝,请联系机器人管理员。",
    "error.bad_request": "模型服务拒绝了请求:{detail}",
    "error.context_too_long": "对话太长,超出模型上下文。请用 /new 开始新对话。",
    "error.unknown_model": "模型 {model} 不可用,请用 /model 选择其他模型。",
    "error.content_refused": "模型拒绝处理该内容。",
    "error.stream_cut": "回答被模型服务中断,请重试。",
    "error.bad_input": "无法理解该输入。",
    "error.permission_denied": "只有群管理员可以这样做。",
    "error.bot_admin_only": "只有机器人管理员可以这样做。",
    "error.input_too_long": "消息太长({length} 个字符,最多 {limit})。",
    "error.empty_input": "请发送文字、图片或文件。",
    "error.unknown_command": "未知命令 /{name},请查看 /help。",
    "error.command_args": "无法解析 /{name} 的参数:{detail}",
    "error.bad_choice": "{param} 只能是:{choices}",
    "error.bad_number": "{param} 必须是 {min} 到 {max} 之间的数字。",
    "error.no_vision": "模型 {model} 无法识别图片。支持图片的模型:{models}。",
    "error.image_too_large": "图片太大(最多 {limit_mb} MB)。",
    "error.image_unreadable": "无法读取该图片。",
    "error.file_too_large": "文件太大(最多 {limit_mb} MB)。",
    "error.file_unsupported": "无法读取 {filename}:仅支持图片和文本文件。",
    "error.file_not_text": "{filename} 不像是文本文件。",
    "turn.cancelled": "已停止。",
    "turn.nothing_to_cancel": "当前没有正在进行的回答。",
    "turn.cancelling": "正在停止回答…",
    "turn.document_truncated": "(文件 {filename} 已截断以适应模型上下文。)",
    "turn.retry_after_seconds": "{seconds} 秒",
    "turn.retry_after_unknown": "稍等片刻",
    "cmd.start": "你好!我把多家 AI 模型带进了这个聊天。直接发消息即可对话,"
    "发送图片可使用视觉模型。\n\n当前模型:**{model}**。{help_hint}",
    "cmd.help_hint": "命令列表见 /help。",
    "cmd.help_title": "**功能说明**",
    "cmd.help_groups": "在群组中,@我、回复我的消息或使用 /{ask} 时我会回答。",
    "cmd.new": "已开始新对话,之前的消息不再作为上下文。",
    "cmd.model_current": "当前模型:**{model}**({vendor}),{scope}设置。",
    "cmd.model_set": "已切换到 **{model}**({vendor}),{scope}生效。",
    "cmd.model_unknown": "未知模型 `{name}`。",
    "cmd.model_suggest": "你是不是想找:{suggestions}?",
    "cmd.model_pick": "请选择模型:",
    "cmd.models_title": "**可用模型**",
    "cmd.models_vision": "(👁 = 支持图片)",
    "cmd.persona_show": "当前系统提示词({scope}):\n{persona}",
    "cmd.persona_none": "尚未设置系统提示词。用 /persona <内容> 设置。",
    "cmd.persona_set": "系统提示词已设置,{scope}生效。",
    "cmd.persona_reset": "系统提示词已重置,{scope}生效。",
    "cmd.persona_too_long": "系统提示词太长(最多 {limit} 个字符)。",
    "cmd.settings_title": "**设置**",
    "cmd.settings_line": "• {name}:`{value}` — {source}",
    "cmd.settings_set": "{name} 已设为 `{value}`,{scope}生效。",
    "cmd.settings_reset": "{name} 已重置,{scope}生效。",
    "cmd.settings_usage": "修改:/settings <名称> <值> [me|chat],例如 /settings temperature 0.7",
    "cmd.mode_show": "回复模式:**{reply}**,上下文:**{context}**。",
    "cmd.mode_set": "群组模式已更新:回复 **{reply}**,上下文 **{context}**。",
    "cmd.cancel_done": "已停止当前回答。",
    "cmd.ask_usage": "用法:/{ask} <问题>",
    "scope.user": "仅对你在本聊天中",
    "scope.chat": "对本聊天",
    "scope.global": "默认",
    "source.user": "你在此处的设置",
    "source.chat": "聊天设置",
    "source.global": "机器人默认",
    "setting.model": "模型",
    "setting.persona": "系统提示词",
    "setting.temperature": "温度",
    "setting.language": "语言",
    "setting.reply_mode": "回复模式",
    "setting.context_mode": "上下文",
}
MESSAGES["error.empty_answer"] = "模型 {model} 返回了空回答,请重试。"
MESSAGES["error.shared_context_admin"] = "本聊天共用一个对话,只有群管理员可以开始新对话。"
MESSAGES["error.quota_exceeded"] = "模型网关拒绝了请求:额度或余额已用尽,请联系机器人管理员。网关提示:{detail}"
MESSAGES["turn.length_note"] = "✂️ 回答达到了长度上限。发送“继续”(或点击按钮)获取剩余部分。"
MESSAGES["turn.continue_button"] = "▶️ 继续"
MESSAGES["turn.continue_not_yours"] = "只有提问的人可以继续这个回答。"
# actions (buttons), tool progress, model picker, continue
MESSAGES.update({
    "action.unknown": "这个按钮已失效。",
    "action.expired": "这个按钮已过期,请重新发送命令。",
    "action.not_yours": "只有提问的人可以使用这个按钮。",
    "action.admins_only": "只有群管理员可以使用这个按钮。",
    "tool.running": "🔧 {name}…",
    "tool.done": "✅ {name}",
    "tool.failed": "⚠️ {name} 执行失败",
    "picker.vendors": "选择厂商(第 {page}/{pages} 页):",
    "picker.models": "**{vendor}** 的模型(第 {page}/{pages} 页):",
    "picker.back": "厂商列表",
    "picker.prev": "上一页",
    "picker.next": "下一页",
    "action.continue": "继续",
    "action.continue_prompt": "请从上一个回答中断的地方继续。",
    "setting.tools": "工具",
})
MESSAGES["error.unsupported_message"] = (
    "暂时无法读取这类消息。请发送文字、图片或文本文件(.txt、.md、.py、.json、.csv 等)。")
MESSAGES["error.download_failed"] = "无法下载 {filename},请重新发送。"
# images (core.images): /image, /edit, /vary and their buttons
MESSAGES.update({
    "image.bad_model": "{model} 不能在这里生成图片。可用的图片模型:{models}。",
    "image.no_prompt": "请告诉我要画什么,例如:/image 雪地里的一只红狐狸。",
    "image.prompt_too_long": "描述对 {model} 来说太长了({length} 个字符,最多 {limit} 个)。",
    "image.bad_size": "{model} 不支持 {size} 尺寸。可用尺寸:{sizes}。",
    "image.bad_n": "{model} 每次最多生成 {max_n} 张图片(你要求了 {n} 张)。",
    "image.bad_quality": "{model} 不支持画质“{quality}”。可用画质:{qualities}。",
    "image.bad_style": "{model} 不支持风格“{style}”。可用风格:{styles}。",
    "image.no_edits": "{model} 不能编辑图片;/edit 和 /vary 使用 {edit_model}。",
    "image.need_photo": "请在发送 /{command} 时附上一张图片,或先点击生成图片下方的 ✏️。",
    "image.gone": "这张图片已不再保存。请用 /image 重新生成。",
    "image.progress_generate": "🎨 正在用 {model} 生成 {n} 张图片…",
    "image.progress_edit": "🎨 正在用 {model} 编辑图片…",
    "image.progress_vary": "🎨 正在用 {model} 生成 {n} 张变体…",
    "image.again": "再来一次",
    "image.edit": "编辑",
    "image.vary": "变体",
    "image.edit_hint": "现在发送 /edit 加上要修改的内容,即可编辑这张图片。",
    "setting.image_model": "图片模型",
    "setting.image_size": "图片尺寸",
})
# presenter: how parts degrade on a platform
MESSAGES["parts.actions_below_album"] = "⬆️ 上方图片的操作:"
MESSAGES["parts.too_large"] = "📎 {filename} 太大,无法在这里发送({size_mb} MB;上限 {limit_mb} MB)。"
# 图片任务:排队、每日额度、图片设置(core.image_jobs)
MESSAGES.update({
    "image.queued": "⏳ 排队中:第 {position} 位",
    "image.allowance_used_up": ("你今天的 {limit} 张图片额度已用完(已用 {used}/{limit},含进行中的任务)。"
                                "额度将在 UTC 00:00 重置,还有 {hours} 小时 {minutes} 分钟。"),
    "image.allowance_too_small": ("这次需要 {units} 张图片,但你今天的 {limit} 张额度只剩 {left} 张"
                                  "(已用 {used},含进行中的任务)。额度将在 UTC 00:00 重置,"
                                  "还有 {hours} 小时 {minutes} 分钟。"),
    "error.bad_whole_number": "{param} 必须是 {min} 到 {max} 之间的整数。",
    "setting.image_daily_allowance": "每人每日图片额度(0 = 不限)",
    "setting.image_jobs_per_chat": "本群同时进行的图片任务数(0 = 不限)",
    "setting.image_jobs_per_user": "每人同时进行的图片任务数(0 = 不限)",
    "setting.image_buttons": "谁可以按图片按钮(requester 或 anyone)",
    # image queue (mjqueue)
    "mj.modal_ready": "Midjourney 需要为这个操作输入提示词。",
    "mj.modal_open": "✏️ 输入提示词",
    # leftovers
    "turn.failure_notice": "⚠️ {reason}",
    "image.not_started": "⏹ 未开始:机器人重启了。请重新发送命令。",
    "action.busy": "⏳ 正在处理,请稍候。",
})
# /settings from one table (core.commands.setting_specs), /mode in private, image pixels
MESSAGES.update({
    "cmd.settings_item": "• `{name}` = `{value}` — {label}({source})",
    "cmd.settings_item_via": "• {label}:`{value}`({source})— 用 /{command} 修改",
    "cmd.settings_item_fixed": "• {label}:`{value}`({source})— 只有机器人所有者可以修改",
    "cmd.settings_how": ("修改上面带 `名称` 的设置:/settings <名称> <值> [me|chat](或 `reset`);"
                         "/settings <名称> 列出可用的值。"),
    "cmd.settings_values": "`{name}` 可用的值:{values}",
    "cmd.settings_size_unfit": ("注意:你的图片尺寸 {size} 不适用于 {model},在修改之前,模型画图会失败:"
                                "/settings image_size <尺寸>({sizes})。"),
    "cmd.mode_private": "群组模式只在群组中生效:没有做任何修改。私聊中我会回复每条消息。",
    "cmd.persona_scope_word": "(最后一个词“{word}”是提示词的一部分。要为整个聊天设置,请加上 scope:chat。)",
    "error.unknown_tools": "未知工具:{names}。可用:all、none,或以下名称:{tools}。",
    "error.image_too_many_pixels": ("图片像素太多({width}×{height} = {pixels} 像素;最多 {limit} 像素,"
                                    "这是 Pillow 图像库的解压炸弹上限,我们沿用它)。"),
    "error.image_bomb": ("图片像素太多({pixels} 像素;最多 {limit} 像素,"
                         "这是 Pillow 图像库的解压炸弹上限,我们沿用它)。"),
    "cmd.settings_chat_only": "(`{name}` 是聊天设置:对本聊天的所有人生效,不只是你。)",
    "cmd.reset_nothing": "{name}({scope})没有设置,所以没有任何变化。",
    "cmd.reset_still": "仍然生效:`{value}`({source})。",
    "cmd.set_shadowed": "对你而言,这里仍以 `{value}`({source})为准。",
})
