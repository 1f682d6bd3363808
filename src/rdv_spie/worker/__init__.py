"""Worker room: arq settings, the job queue, the in-process runner."""
