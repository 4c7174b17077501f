"""`python -m schemas`: regenerate the JSON Schema files in this folder."""

from schemas.jsonschema import write_schemas

if __name__ == "__main__":
    for path in write_schemas():
        print(path)
