"""HTTP for the coordinator desk, one module per screen. Handlers are thin: they parse, call
one service function and pick a response."""

from service.desk.controllers.router import desk_router

__all__ = ["desk_router"]
