"""The HTTP face: the hosted Tools API's endpoints, served locally (``workbench serve``)."""
