import @@name@@ from './lesson-@@lesson@@.json';

const quiz = {
  0: @@name@@[0]
};

export default quiz;
