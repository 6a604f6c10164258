"""Everything golive sends to the app under test, apart from the checks that judge it.

- `templates`: {variables} in the profile's requests;
- `captures`: values read from answers (JMESPath, headers, cookies, HTML fields);
- `session`: one user's requests, with the profile's `auth` (credentials, login, CSRF,
  re-login);
- `runner`: the profile's `flows`, step by step;
- `app`: the app as the checks see it: users by name, jobs by name, a checkout's
  PaymentIntent whatever shape the app answers.
"""
