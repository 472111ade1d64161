"""Great-circle distance between two points given in decimal degrees (WGS 84 latitude and
longitude), by the haversine formula on a sphere.

The sphere's radius is the IUGG mean Earth radius, 6371.0088 km. Against the ellipsoid the
error is below 0.5 %, far less than the difference between two stores a router compares; the
formula is well conditioned for short distances, which is where stores are compared most.
"""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_KM = 6371.0088


def valid_coordinates(latitude: float, longitude: float) -> bool:
    """Latitude within [-90, 90] and longitude within [-180, 180] (and neither NaN)."""
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def haversine_km(
    lat1: float, lon1: float, lat2: float, lon2: float, *, radius_km: float = EARTH_RADIUS_KM
) -> float:
    """Great-circle distance in km between (lat1, lon1) and (lat2, lon2)."""
    phi1, phi2 = radians(lat1), radians(lat2)
    dphi = phi2 - phi1
    dlam = radians(lon2 - lon1)
    h = sin(dphi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(dlam / 2) ** 2
    return 2 * radius_km * asin(min(1.0, sqrt(h)))
