"""ITB-style custom generators used by the pipeline tests (``package.module:function``)."""
