# gcp path: emulators, demo, packaging (filled in by the gcp issue).
