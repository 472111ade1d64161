// This browser's register: written once at enrolment (/register/enroll), read by every page.
// The device key is the register's secret: it goes with every PIN, never anywhere else.
const KEY = "omnitill.register";

export function device() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

export function saveDevice(enrollment) {
  localStorage.setItem(KEY, JSON.stringify({
    register: enrollment.register,
    location: enrollment.location,
    currency: enrollment.currency,
    locale: enrollment.locale,
    device_key: enrollment.device_key,
  }));
}

/** The enrolled register, or off to the enrolment page. */
export function requireDevice() {
  const found = device();
  if (!found) window.location.assign("/register/enroll");
  return found;
}
