"""liprobe: where is the lithium in a cathode particle, and why did it leave?

Atom probe tomography, STEM-HAADF, ICP-AES and cycling data of layered cathodes,
from the instruments' files to tables, figures and a report.
"""

from liprobe.data import Image, Ion, IonTable, RangeTable
from liprobe.errors import LiprobeError

__version__ = "0.1.0"
__all__ = ["IonTable", "Ion", "RangeTable", "Image", "LiprobeError", "__version__"]
