"""The clinic site's content: pages imported into a snapshot, intents drafted from it, answers checked against it."""
