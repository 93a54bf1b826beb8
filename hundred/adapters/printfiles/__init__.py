"""The print room's files: a batch's PDF (cover, separator, letters), manifest CSV and label sheets."""
