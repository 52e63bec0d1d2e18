"""The Ecwid sensor: waits on batch tickets and reports them row by row."""
