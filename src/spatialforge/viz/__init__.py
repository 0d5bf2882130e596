"""Visual inspection of datasets: an HTML page of sample records with boxes drawn."""

from .show import build_show_page, draw_record

__all__ = ["build_show_page", "draw_record"]
