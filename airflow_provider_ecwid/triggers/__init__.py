"""The Ecwid trigger: waits on batch tickets in the triggerer."""
