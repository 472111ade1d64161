"""Every request and response model of the API, checked as a whole."""

from __future__ import annotations

import importlib
import pkgutil

import pydantic

import omnitill.api.schemas as schemas


def models() -> list[type[pydantic.BaseModel]]:
    found = []
    for info in pkgutil.iter_modules(schemas.__path__):
        module = importlib.import_module(f"{schemas.__name__}.{info.name}")
        found += [
            obj
            for obj in vars(module).values()
            if isinstance(obj, type)
            and issubclass(obj, pydantic.BaseModel)
            and obj.__module__ == module.__name__
        ]
    return found


def test_no_field_takes_a_method_of_basemodel_as_its_default():
    """A field named like a BaseModel attribute (the contract's "register") declared without
    a default silently takes that attribute (a bound method) as its default: the field
    becomes optional and a missing value turns into a method. Declare it with Field()."""
    assert len(models()) > 50
    wrong = [
        f"{model.__module__}.{model.__name__}.{name}"
        for model in models()
        for name, field in model.model_fields.items()
        if callable(field.default)
    ]
    assert wrong == []
