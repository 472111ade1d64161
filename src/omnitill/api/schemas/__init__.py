"""Pydantic request and response models of the API, one module per feature.

The public contract names a field "register" (sales, payments, shifts, returns); pydantic
warns that it shadows `BaseModel.register` (the ABC registration hook), which these models
never use. The warning is silenced once, here, before any schema module is imported.
"""

import warnings

warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)
