"""Image generation: ``/image``, ``/edit``, ``/vary``, their buttons and the
``generate_image`` tool.

``service.ImageService`` (installed by ``ChatCore``) runs them as jobs;
``validation`` holds each model's rules (checked before any call); ``prepare`` turns
photos into square RGBA PNGs; ``files`` keeps images on disk under ``DATA_DIR/images``;
``specs`` declares the commands. Nothing is imported here (``core.commands.registry``
imports ``specs``; importing the service here would be circular).
"""
