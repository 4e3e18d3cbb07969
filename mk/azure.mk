# azure path: emulators, demo, packaging (filled in by the azure issue).
