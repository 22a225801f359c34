"""irondog.voice: offline voice commands (audio, noise, denoise, ASR and its adapter, parsers,
schema, pipeline).

Modules import their heavy libraries lazily; start at ``irondog.voice.pipeline.VoicePipeline``
or ``irondog.voice.commands`` for the schema.
"""
