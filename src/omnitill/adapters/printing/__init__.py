"""Store hardware: receipt printers (ESC/POS over TCP), and label sheets as PDF."""
