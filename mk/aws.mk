# aws path: emulators, demo, packaging (filled in by the aws issue).
