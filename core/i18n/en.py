"""English messages."""

MESSAGES: dict[str, str] = {
    # errors of turns and commands
    "error.internal": "Something went wrong on our side. Please try again.",
    "error.gateway": "The model service failed. Please try again.",
    "error.rate_limited": "The model service is busy (rate limited). Please try again in {retry_after_text}.",
    "error.unavailable": "The model service is unavailable right now. Please try again later.",
    "error.timeout": "The model did not answer in time. Please try again.",
    "error.auth_failed": "The bot's gateway API key was rejected. Please tell the bot owner.",
    "error.bad_request": "The model service rejected the request: {detail}",
    "error.context_too_long": "This conversation is too long for the model. Use /new to start over.",
    "error.unknown_model": "The model {model} is not available. Use /model to pick another one.",
    "error.content_refused": "The model refused this content.",
    "error.stream_cut": "The answer was cut off by the model service. Please try again.",
    "error.bad_input": "I could not understand that.",
    "error.permission_denied": "Only chat admins can do that.",
    "error.bot_admin_only": "Only the bot's owners can do that.",
    "error.input_too_long": "Your message is too long ({length} characters, at most {limit}).",
    "error.empty_input": "Send some text, a photo or a file.",
    "error.unknown_command": "Unknown command /{name}. See /help.",
    "error.command_args": "Could not read the arguments of /{name}: {detail}",
    "error.bad_choice": "{param} must be one of: {choices}",
    "error.bad_number": "{param} must be a number between {min} and {max}.",
    "error.no_vision": "The model {model} cannot see images. Vision models: {models}.",
    "error.image_too_large": "That image is too large (at most {limit_mb} MB).",
    "error.image_unreadable": "I could not read that image.",
    "error.file_too_large": "That file is too large (at most {limit_mb} MB).",
    "error.file_unsupported": "I can't read {filename}: only images and text files are supported.",
    "error.file_not_text": "{filename} does not look like a text file.",
    "turn.cancelled": "Stopped.",
    "turn.nothing_to_cancel": "Nothing is running.",
    "turn.cancelling": "Stopping the answer…",
    "turn.document_truncated": "(The file {filename} was truncated to fit the model's context.)",
    "turn.retry_after_seconds": "{seconds} s",
    "turn.retry_after_unknown": "a moment",
    # commands
    "cmd.start": "Hi! I bring many AI models into this chat. Just send a message to talk, "
    "or a photo for vision models.\n\nCurrent model: **{model}**. {help_hint}",
    "cmd.help_hint": "Commands are listed in /help.",
    "cmd.help_title": "**What I can do**",
    "cmd.help_groups": "In groups I answer when mentioned, when you reply to me, or via /{ask}.",
    "cmd.new": "Started a new conversation. Previous messages are forgotten.",
    "cmd.model_current": "Current model: **{model}** ({vendor}), set {scope}.",
    "cmd.model_set": "Model switched to **{model}** ({vendor}) {scope}.",
    "cmd.model_unknown": "Unknown model `{name}`.",
    "cmd.model_suggest": "Did you mean: {suggestions}?",
    "cmd.model_pick": "Pick a model:",
    "cmd.models_title": "**Available models**",
    "cmd.models_vision": "(👁 = understands images)",
    "cmd.persona_show": "Current system prompt ({scope}):\n{persona}",
    "cmd.persona_none": "No system prompt is set. Set one with /persona <text>.",
    "cmd.persona_set": "System prompt set {scope}.",
    "cmd.persona_reset": "System prompt reset {scope}.",
    "cmd.persona_too_long": "The system prompt is too long (at most {limit} characters).",
    "cmd.settings_title": "**Settings**",
    "cmd.settings_line": "• {name}: `{value}` — {source}",
    "cmd.settings_set": "{name} set to `{value}` {scope}.",
    "cmd.settings_reset": "{name} reset {scope}.",
    "cmd.settings_usage": "Change with /settings <name> <value> [me|chat], e.g. /settings temperature 0.7",
    "cmd.mode_show": "Reply mode: **{reply}**, context: **{context}**.",
    "cmd.mode_set": "Group mode updated: reply **{reply}**, context **{context}**.",
    "cmd.cancel_done": "Stopped the current answer.",
    "cmd.ask_usage": "Usage: /{ask} <question>",
    # scopes and sources
    "scope.user": "for you in this chat",
    "scope.chat": "for this chat",
    "scope.global": "by default",
    "source.user": "your setting here",
    "source.chat": "chat setting",
    "source.global": "bot default",
    "setting.model": "model",
    "setting.persona": "system prompt",
    "setting.temperature": "temperature",
    "setting.language": "language",
    "setting.reply_mode": "reply mode",
    "setting.context_mode": "context",
}
MESSAGES["error.empty_answer"] = "The model {model} returned an empty answer. Please try again."
MESSAGES["error.shared_context_admin"] = "This chat shares one conversation: only chat admins can start a new one."
MESSAGES["error.quota_exceeded"] = ("The model gateway refused: its quota or balance is used up. "
                                   "Please tell the bot owner. The gateway said: {detail}")
MESSAGES["turn.length_note"] = ("✂️ The answer hit the length limit. Send “continue” "
                                "(or press the button) for the rest.")
MESSAGES["turn.continue_button"] = "▶️ Continue"
MESSAGES["turn.continue_not_yours"] = "Only the person who asked can continue this answer."
# actions (buttons), tool progress, model picker, continue
MESSAGES.update({
    "action.unknown": "This button is no longer available.",
    "action.expired": "This button has expired. Please run the command again.",
    "action.not_yours": "Only the person who asked can use this button.",
    "action.admins_only": "Only chat admins can use this button.",
    "tool.running": "🔧 {name}…",
    "tool.done": "✅ {name}",
    "tool.failed": "⚠️ {name} failed",
    "picker.vendors": "Pick a vendor (page {page}/{pages}):",
    "picker.models": "**{vendor}** models (page {page}/{pages}):",
    "picker.back": "Vendors",
    "picker.prev": "Previous",
    "picker.next": "Next",
    "action.continue": "Continue",
    "action.continue_prompt": "Please continue exactly where your last answer stopped.",
    "setting.tools": "tools",
})
MESSAGES["error.unsupported_message"] = (
    "I can't read that kind of message yet. Send me text, photos or text documents "
    "(.txt, .md, .py, .json, .csv…).")
MESSAGES["error.download_failed"] = "I couldn't download {filename}. Please send it again."
# images (core.images): /image, /edit, /vary and their buttons
MESSAGES.update({
    "image.bad_model": "{model} can't make images here. Image models: {models}.",
    "image.no_prompt": "Tell me what to draw, e.g. /image a red fox in the snow.",
    "image.prompt_too_long": "That prompt is too long for {model} ({length} characters, "
                             "at most {limit}).",
    "image.bad_size": "{model} can't make {size} images. Sizes: {sizes}.",
    "image.bad_n": "{model} makes at most {max_n} image(s) per request (you asked for {n}).",
    "image.bad_quality": "{model} doesn't take quality \"{quality}\". Qualities: {qualities}.",
    "image.bad_style": "{model} doesn't take style \"{style}\". Styles: {styles}.",
    "image.no_edits": "{model} can't edit images; /edit and /vary use {edit_model}.",
    "image.need_photo": "Send a photo with /{command}, or press ✏️ under a generated image "
                        "first.",
    "image.gone": "That image is no longer stored. Generate a new one with /image.",
    "image.progress_generate": "🎨 Drawing {n} image(s) with {model}…",
    "image.progress_edit": "🎨 Editing the image with {model}…",
    "image.progress_vary": "🎨 Making {n} variation(s) with {model}…",
    "image.again": "Again",
    "image.edit": "Edit",
    "image.vary": "Variations",
    "image.edit_hint": "Now send /edit followed by what to change in this image.",
    "setting.image_model": "image model",
    "setting.image_size": "image size",
})
# presenter: how parts degrade on a platform
MESSAGES["parts.actions_below_album"] = "⬆️ Options for the pictures above:"
MESSAGES["parts.too_large"] = ("📎 {filename} is too large to send here ({size_mb} MB; "
                               "the limit is {limit_mb} MB).")
# image jobs: queue, daily allowance, image settings (core.image_jobs)
MESSAGES.update({
    "image.queued": "⏳ Queued: position {position}",
    "image.allowance_used_up": ("You have used your {limit} images for today ({used} of {limit}, "
                                "including jobs in progress). The allowance resets at 00:00 UTC, "
                                "in {hours} h {minutes} min."),
    "image.allowance_too_small": ("This needs {units} images but only {left} of your {limit} "
                                  "images for today are left ({used} used, including jobs in "
                                  "progress). The allowance resets at 00:00 UTC, in {hours} h "
                                  "{minutes} min."),
    "error.bad_whole_number": "{param} must be a whole number from {min} to {max}.",
    "setting.image_daily_allowance": "images per user per day (0 = unlimited)",
    "setting.image_jobs_per_chat": "image jobs at once in this chat (0 = unlimited)",
    "setting.image_jobs_per_user": "image jobs at once per user (0 = unlimited)",
    "setting.image_buttons": "who may press image buttons (requester or anyone)",
    # image queue (mjqueue)
    "mj.modal_ready": "Midjourney needs the prompt for this action.",
    "mj.modal_open": "✏️ Enter the prompt",
    # leftovers
    "turn.failure_notice": "⚠️ {reason}",
    "image.not_started": "⏹ Not started: the bot restarted. Send the command again.",
    "action.busy": "⏳ Already working on it.",
})
# /settings from one table (core.commands.setting_specs), /mode in private, image pixels
MESSAGES.update({
    "cmd.settings_item": "• `{name}` = `{value}` — {label} ({source})",
    "cmd.settings_item_via": "• {label}: `{value}` ({source}) — change with /{command}",
    "cmd.settings_item_fixed": "• {label}: `{value}` ({source}) — only the bot's owners change it",
    "cmd.settings_how": ("Change a `name` above with /settings <name> <value> [me|chat] "
                         "(or `reset`); /settings <name> lists its values."),
    "cmd.settings_values": "Values of `{name}`: {values}",
    "cmd.settings_size_unfit": ("Note: your image size {size} does not fit {model}, so images "
                                "drawn by the model will fail until you change it: "
                                "/settings image_size <size> ({sizes})."),
    "cmd.mode_private": ("Group modes only apply in groups: nothing was changed. In a private "
                         "chat I answer every message."),
    "cmd.persona_scope_word": ("(The last word “{word}” is part of the prompt. To set it "
                               "for the whole chat, add scope:chat.)"),
    "error.unknown_tools": "Unknown tool(s): {names}. Use all, none, or names from: {tools}.",
    "error.image_too_many_pixels": ("That image is too large in pixels ({width}×{height} = "
                                    "{pixels} pixels; at most {limit} pixels, the "
                                    "decompression-bomb limit of the Pillow image library, "
                                    "which we keep)."),
    "error.image_bomb": ("That image is too large in pixels ({pixels} pixels; at most {limit} "
                         "pixels, the decompression-bomb limit of the Pillow image library, "
                         "which we keep)."),
    "cmd.settings_chat_only": ("(`{name}` is a chat setting: it applies to everyone in this "
                               "chat, not only to you.)"),
    "cmd.reset_nothing": "{name} was not set {scope}, so nothing changed.",
    "cmd.reset_still": "Still in effect: `{value}` ({source}).",
    "cmd.set_shadowed": "For you here, `{value}` ({source}) still takes precedence.",
})
