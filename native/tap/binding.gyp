{
  "targets": [
    {
      "target_name": "tkl_tap",
      "sources": ["tap.c"]
    }
  ]
}
